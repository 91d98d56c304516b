"""circuitq shared package: what every service of the fleet needs.

config   - pydantic config and secrets loading (errors name file and key path)
topics   - the typed catalogue of every MQTT topic
payloads - pydantic models of every JSON payload
mqtt     - FleetClient: paho 2.x with status/last will, resubscribe, TCP_NODELAY
loop     - single-threaded event loop with timers (decision code never races)
clock    - injected time
"""

SERVICES = (
    "curb_collector",
    "solar_collector",
    "scheduler",
    "relay_agent",
    "ecobee_agent",
    "notifier",
    "recorder",
    "web",
)
