"""The scheduler: circuitq's brain. `core.decide` is the pure policy; `service` the MQTT shell."""
