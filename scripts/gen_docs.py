"""Write docs/mqtt.md from the topic catalogue (circuitq/topics.py).

    python -m scripts.gen_docs          # rewrite docs/mqtt.md
    python -m scripts.gen_docs --check  # exit 1 if docs/mqtt.md is out of date

tests/test_catalogue.py fails when the committed file differs from what this renders.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from circuitq import topics as t

OUT = Path(__file__).resolve().parent.parent / "docs" / "mqtt.md"

HEADER = """# circuitq MQTT interface

Generated from `circuitq/topics.py` by `python -m scripts.gen_docs`; do not edit by hand
(a test fails when this file and the catalogue disagree).

Base topic: `circuitq` (setting `mqtt.base_topic`). Every service logs in as its own broker
user; `mosquitto/acl` is generated from the same table, so "publishers" and "readers" below
are exactly what the broker allows. The `user` account is for phones, MQTT Explorer,
Node-RED and Home Assistant: it reads all state and writes only `/set` topics.

Conventions: JSON payloads with snake_case keys; watts in `_w`, seconds in `_s`; times are
ISO 8601 with a UTC offset. Commands are absolute (never toggles) and carry a lease.
Retained messages are refused on command topics (they would re-fire after a reconnect);
a retained `/set` is applied once and cleared. Anything a service cannot use is answered
on `circuitq/error` with the reason, and the service keeps running.

## Overriding a load from a phone

```
mosquitto_pub -u user -P <password> -t circuitq/load/pool_pump/set -m ON
mosquitto_pub -u user -P <password> -t circuitq/load/water_heater_north/set \\
  -m '{"mode": "off", "minutes": 90}'
mosquitto_pub -u user -P <password> -t circuitq/load/water_heater_north/set -m AUTO
```

## Liveness: what cannot outlive its owner

A retained message outlives the service that published it, and Mosquitto restores retained
messages after a restart. So a client never takes a retained `online` or a retained state
as proof that its owner is alive:

- each service publishes `circuitq/<service>/heartbeat` (retained, JSON) every 30 s from its
  own event loop, with `ts` and `expires` (ts + 75 s). The service is alive while `expires` is
  in the future. A hung or dead service stops its heartbeat; a heartbeat restored by a broker
  restart is recognised by its `expires` in the past;
- `online` and every retained state a service owns (relay, DRED, load and DRM states, marked
  *expires with its owner* below) carry an MQTT 5 message expiry of 75 s and are re-sent with
  each heartbeat: the broker forgets them 75 s after their owner stopped sending them;
- `online` is published only after the broker acknowledged every subscription of the service
  (SUBACK), so a command sent the moment a client sees `online` is never lost;
- the scheduler's last will (`circuitq/scheduler/status` = `offline`) marks its load and DRM
  states unavailable at once; the relay agent then drives every output to its safe state.

Home Assistant: `availability_topic` = the owner's `status` (`online`/`offline`), and
`expire_after: 75` on every entity whose state topic is marked *expires with its owner*, or
on an entity fed by the owner's heartbeat.

## Topics

| topic | payload | QoS | retained | published by | read by |
|---|---|---|---|---|---|
"""


def _type_name(ann) -> str:
    text = ann.__name__ if isinstance(ann, type) else str(ann)
    for noise in ("typing.", "pydantic.types.", "datetime.", "circuitq.payloads.", "NoneType"):
        text = text.replace(noise, "None" if noise == "NoneType" else "")
    return text.replace("Annotated[datetime, AwareDatetime]", "datetime")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _fields(model) -> list[str]:
    rows = []
    for name, f in model.model_fields.items():
        ann = _type_name(f.annotation)
        desc = f" — {f.description}" if f.description else ""
        req = "" if f.is_required() else " (optional)"
        rows.append(f"- `{name}`: {ann}{req}{desc}")
    return rows


def render() -> str:
    out = [HEADER.rstrip("\n")]
    for e in t.CATALOGUE:
        pattern = e.pattern.replace("{base}", "circuitq").replace("{discovery}", "homeassistant")
        out.append(f"| `{pattern}` | {_cell(e.payload_name)} | {e.qos} | {'yes' if e.retained else 'no'} "
                   f"| {', '.join(e.publishers)} | {', '.join(e.subscribers) or '-'} |")
    out.append("")
    out.append("## Details")
    for e in t.CATALOGUE:
        pattern = e.pattern.replace("{base}", "circuitq").replace("{discovery}", "homeassistant")
        out += ["", f"### `{pattern}`", "", e.description]
        if e.example:
            out += ["", f"Example: `{e.example}`"]
        if e.leased:
            out += ["", "Leased command: never queued while the publisher is offline (it would "
                        "arrive late with a fresh lease); re-sent when the receiver comes online."]
        if e.latest:
            out += ["", "Latest value: readers subscribe at QoS 0 and handle only the newest message, "
                        "so a burst of readings never queues ahead of a command or a `/set`."]
        if e.expires:
            out += ["", "Expires with its owner: published with an MQTT 5 message expiry of 75 s and "
                        "re-sent with every 30 s heartbeat (Home Assistant: `expire_after: 75`). See "
                        "*Liveness* above."]
        if not isinstance(e.payload, str):
            doc = (e.payload.__doc__ or "").strip().splitlines()[0]
            out += ["", f"Payload `{e.payload.__name__}`: {doc}", ""] + _fields(e.payload)
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    text = render()
    if a.check:
        if not OUT.exists() or OUT.read_text() != text:
            print(f"{OUT} is out of date: run python -m scripts.gen_docs", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
