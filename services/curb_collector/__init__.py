"""curb_collector: polls the Curb cloud and publishes per-circuit watts on MQTT.

Replaces CircuitQueueing's getAccessToken.py, fetchCurbData.py and curbConnectivityCheck.
Pure decision parts: snapshot (parse), freshness, mapping, failures. I/O: transport, auth,
api (worker thread), collector (loop + MQTT). See docs/curb_collector.md.
"""
