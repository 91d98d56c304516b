"""`python -m sim.simulate`: a simulated house, the real scheduler and relay agent cores, and
the bill and the broken promises of each policy. See docs/simulate.md."""
