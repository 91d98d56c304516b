"""relay_agent: the only process that drives GPIO, i.e. the one that touches mains power.

core.py     pure decision core of one output (lease, min on/off, starts per hour, safe fallback)
fleet.py    all outputs of the house + command parsing (pure; tests drive it with explicit `now`)
drm.py      AS/NZS 4755 wiring models and the safe order of relay changes between DRM modes
gpio/       driver ABC and one file per driver (sim, rpi), BOARD->BCM table
hardware.py channels (pin, numbering, active_low) and logical on/off over a driver
state.py    retained state payloads from the pin read-back; activity lines
store.py    switch counts and recent history, persisted atomically (state_dir/relay_agent.json)
lockfile.py one instance per host (flock); watchdog.py a thread that catches a stalled loop
agent.py    the I/O shell: FleetClient, EventLoop timers, persistence, watchdog, lock file
See docs/relay_agent.md for the safety rules.
"""
