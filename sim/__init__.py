"""Simulated hardware and cloud: what `make demo` and the tests run the real fleet against.

broker   - a Mosquitto started from the project's own mosquitto/ config on a free port
secrets  - development secrets (random broker passwords, fake API keys)
fakes/   - local HTTP servers speaking Curb, Enphase, PVOutput, ecobee and Prowl wire formats
"""
