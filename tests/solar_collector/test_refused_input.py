"""Every refused message on circuitq/solar/input/<name> is answered on circuitq/error:
a name no source reads, and each malformed payload on a configured one (never de-duplicated)."""
from __future__ import annotations

from tests.solar_collector.conftest import src_health

ERROR = "circuitq/error"
MALFORMED = ["sunny", "{}", '{"w": "x"}', "NaN", "-5", "[1, 2]", '{"w": 1e12}', '{"w": null}',
             '{"watts": 5}', '{"w": 5, "ts": "yesterday"}', "1,5", "\xff\xfe"]


def test_unknown_input_name_and_every_malformed_payload_are_answered(solar, user_probe):
    svc = solar([{"kind": "mqtt", "name": "nodered"}])
    user_probe.on_topic(src_health("nodered"))  # subscribed (health follows the SUBACK)

    mark = user_probe.mark()
    user_probe.publish("circuitq/solar/input/ghost", "1234")
    err = user_probe.on_topic(ERROR, since=mark).json()
    assert err["topic"] == "circuitq/solar/input/ghost" and "'ghost'" in err["error"]
    assert "nodered" in err["error"] and err["service"] == "solar_collector"

    topic = "circuitq/solar/input/nodered"
    mark = user_probe.mark()
    sent = MALFORMED * 3  # 36, the same payload again must be answered again
    for payload in sent:
        user_probe.publish(topic, payload.encode("utf-8", "surrogateescape") if payload[0] == "\xff"
                           else payload)

    def answered() -> int:
        return sum(1 for m in user_probe.messages[mark:] if m.topic == ERROR and m.json()["topic"] == topic)

    user_probe.wait_for(lambda m: answered() >= len(sent), timeout=30, since=mark)
    errs = [m.json()["payload"] + " => " + m.json()["error"] for m in user_probe.messages[mark:] if m.topic == ERROR]
    assert answered() == len(sent), "\n".join(errs)
    assert svc.alive()
