"""Connect as a fleet service user with FleetClient (status + last will) and wait forever.

    python -m tests.helpers.hold_connection <service> <port> <password>

Tests kill -9 this process to prove that the broker delivers the service's last will.
"""
import sys
import time

from circuitq.config.mqtt import MqttConfig
from circuitq.mqtt import FleetClient

service, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = FleetClient(service, MqttConfig(port=port), password)
client.start()
if not client.wait_connected(10):
    sys.exit(3)
print("connected", flush=True)
while True:
    time.sleep(60)
