"""ecobee_agent: holds the smart heat pump off through its ecobee thermostat on request.

Replaces CircuitQueueing's ecobeeOverride.py / ecobee_functions.py. See docs/ecobee_agent.md.
"""
