"""Home Assistant MQTT discovery, as Home Assistant's MQTT documentation describes it.

One device per physical thing: each load, each DRM output, the Pi's relay board, the solar
source and the Curb monitor, all linked to the fleet's hub device with `via_device`. Names
are people's names (config `name:`, else the key made readable); `default_entity_id`
(not the deprecated `object_id`), `origin` and `sw_version` on every message.

Entities show the wish and the hardware side by side (mode and permitted from the load
state; the relay level and the DRM mode the output asserts from the relay agent), the
reason, `until` and `next_change` as JSON attributes, the power, kWh counters for the
Energy dashboard, each service's availability and heartbeat, and the planner's next run.

Availability is the owner's `status` topic; an entity fed by a topic that expires with its
owner (catalogue `expires`) also gets `expire_after` (circuitq/liveness.py). Pure: returns
(topic names, config payload) pairs; docs/integrations.md lists what appears.
"""
from __future__ import annotations

import re
from importlib import metadata

from circuitq import SERVICES
from circuitq import topics as t
from circuitq.config import CircuitqConfig
from circuitq.liveness import EXPIRE_AFTER_S

from .entities import Entities, readable

try:
    VERSION = metadata.version("circuitq")
except metadata.PackageNotFoundError:  # run from a source tree that was never installed
    VERSION = "unknown"
ORIGIN = {"name": "circuitq", "sw_version": VERSION}
ATTRS = ("{{ {'reason': value_json.reason.text, 'reason_code': value_json.reason.code, "
         "'until': value_json.until, 'next_change': value_json.next_change, "
         "'since': value_json.since} | tojson }}")
RELAY_ATTRS = ("{{ {'commanded': value_json.commanded, 'lease_until': value_json.lease_until, "
               "'held': value_json.pending.state if value_json.pending else None, "
               "'held_until': value_json.pending.eligible_at if value_json.pending else None, "
               "'held_because': value_json.pending.reason.text if value_json.pending else None, "
               "'switch_count': value_json.switch_count, 'since': value_json.since} | tojson }}")


def node_id(cfg: CircuitqConfig) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", cfg.mqtt.base_topic)


def messages(cfg: CircuitqConfig) -> list[tuple[dict, dict]]:
    """[(topic names for HA_DISCOVERY, config payload)] for every entity."""
    base, node = cfg.mqtt.base_topic, node_id(cfg)
    e = Entities(cfg.mqtt.discovery_prefix, node, ORIGIN, lambda svc: t.STATUS.topic(base, service=svc),
                 int(EXPIRE_AFTER_S))
    hub = e.device("fleet", f"circuitq ({cfg.site.name})", "circuitq fleet", VERSION)
    board = e.device("relay_board", "Relay board", f"Raspberry Pi relay board ({cfg.relay_agent.backend})",
                     via=hub) if cfg.relays or cfg.drm_outputs else None
    curb = e.device("curb", "Curb energy monitor", "Curb", via=hub, manufacturer="Curb") if cfg.curb else None
    solar = None
    if cfg.solar:
        kinds = ", ".join(s.kind for s in cfg.solar.sources) or "none"
        solar = e.device("solar", "Solar", f"solar production ({kinds})", via=hub)
    _services(cfg, base, e, hub, board, curb, solar)
    measured = _loads(cfg, base, e, hub, board, curb)
    if curb:
        _curb(cfg, base, e, curb, measured)
    if solar:
        e.sensor(solar, "solar_production", "Production", t.SOLAR_PRODUCTION.topic(base), "solar_collector",
                 "{{ None if value_json.stale else value_json.w }}", unit="W", device_class="power",
                 state_class="measurement")
        _health(e, solar, "solar_health", t.SOLAR_HEALTH.topic(base), "solar_collector")
    _drm(cfg, base, e, board or hub)
    return e.out


def _services(cfg, base, e: Entities, hub, board, curb, solar) -> None:
    """Each running service's availability (connectivity) and its last heartbeat."""
    used = {"scheduler": hub, "relay_agent": board, "curb_collector": curb, "solar_collector": solar,
            "ecobee_agent": hub if cfg.ecobee else None, "notifier": hub if cfg.notifier else None}
    for svc in SERVICES:
        dev = used.get(svc)
        if dev is None:
            continue
        status = t.STATUS.topic(base, service=svc)
        e.binary_sensor(dev, f"service_{svc}", f"{readable(svc)} service", status, None, None,
                        device_class="connectivity", payload_on=t.ONLINE, payload_off=t.OFFLINE,
                        entity_category="diagnostic", expires=t.STATUS.expires)
        e.sensor(dev, f"service_{svc}_heartbeat", f"{readable(svc)} heartbeat",
                 t.HEARTBEAT.topic(base, service=svc), svc, "{{ value_json.ts }}", device_class="timestamp",
                 entity_category="diagnostic", expires=t.HEARTBEAT.expires,
                 attrs="{{ {'expires': value_json.expires, 'broker': value_json.broker, "
                       "'not_persisted': value_json.not_persisted} | tojson }}")


def _loads(cfg, base, e: Entities, hub, board, curb) -> set[str]:
    """A device per load; returns the circuits shown on a load's device."""
    measured: set[str] = set()
    planned = cfg.scheduler.planner.enabled
    for name, lc in cfg.loads.items():
        via = {"relay": board, "drm": board, "observed": curb}.get(lc.kind) or hub
        dev = e.device(f"load_{name}", lc.name or _target_name(cfg, lc) or readable(name),
                       f"{lc.kind} load", via=via, description=lc.description)
        state = t.LOAD_STATE.topic(base, load=name)
        if lc.kind != "observed":
            e.select(dev, f"{name}_mode", "Mode", t.LOAD_SET.topic(base, load=name), state,
                     "{{ value_json.mode }}", ["auto", "on", "off"], attrs=ATTRS, icon="mdi:tune-variant")
            e.number(dev, f"{name}_override_length", "Override length", t.LOAD_SET.topic(base, load=name),
                     lc.override_max_min)
            e.binary_sensor(dev, f"{name}_permitted", "Permitted", state, "scheduler",
                            "{{ 'ON' if value_json.permitted else 'OFF' }}", attrs=ATTRS,
                            expires=t.LOAD_STATE.expires, icon="mdi:playlist-check")
            e.sensor(dev, f"{name}_next_change", "Next change", state, "scheduler",
                     "{{ value_json.next_change }}", device_class="timestamp", expires=t.LOAD_STATE.expires)
        e.sensor(dev, f"{name}_reason", "Reason", state, "scheduler", "{{ value_json.reason.text[:255] }}",
                 attrs=ATTRS, expires=t.LOAD_STATE.expires, icon="mdi:information-outline")
        e.binary_sensor(dev, f"{name}_running", "Running", state, "scheduler",
                        "{{ 'ON' if value_json.running else 'OFF' }}", device_class="running",
                        expires=t.LOAD_STATE.expires)
        if lc.kind == "relay":
            relay = t.RELAY_STATE.topic(base, relay=lc.relay or name)
            e.binary_sensor(dev, f"{name}_relay", "Relay", relay, "relay_agent",
                            "{{ 'ON' if value_json.level == 'on' else 'OFF' }}", device_class="power",
                            attrs=RELAY_ATTRS, expires=t.RELAY_STATE.expires, icon="mdi:electric-switch")
        if lc.kind == "thermostat" and cfg.ecobee:
            e.binary_sensor(dev, f"{name}_shed", "Shed", t.ECOBEE_STATE.topic(base, thermostat=lc.thermostat or name),
                            "ecobee_agent", "{{ 'ON' if value_json.shed else 'OFF' }}", icon="mdi:hvac-off")
        if planned and (lc.hot_water or lc.runtime or lc.comfort):
            e.sensor(dev, f"{name}_next_run", "Next planned run", t.PLAN.topic(base), "scheduler",
                     f"{{% set p = value_json.loads.get('{name}') %}}"
                     "{{ p.runs[0].start if p and p.runs else None }}", device_class="timestamp",
                     attrs=f"{{% set p = value_json.loads.get('{name}') %}}"
                           "{{ {'plan': p.text if p else None, 'runs': p.runs if p else []} | tojson }}")
        circuit = lc.circuit or name
        if curb and circuit in cfg.curb.circuits and circuit not in measured:
            measured.add(circuit)
            _circuit(base, e, dev, circuit, f"{name}_power", f"{name}_energy")
    return measured


def _target_name(cfg, lc) -> str | None:
    """A relay's or DRM output's own name stands for the load it switches."""
    if lc.kind == "relay" and (lc.relay or "") in cfg.relays:
        return cfg.relays[lc.relay].name
    if lc.kind == "drm" and lc.output in cfg.drm_outputs:
        return cfg.drm_outputs[lc.output].name
    return None


def _circuit(base, e: Entities, dev, circuit: str, power_obj: str, energy_obj: str, prefix: str = "") -> None:
    e.sensor(dev, power_obj, f"{prefix}Power", t.CURB_CIRCUIT.topic(base, circuit=circuit), "curb_collector",
             "{{ None if value_json.stale else value_json.w }}", unit="W", device_class="power",
             state_class="measurement")
    e.sensor(dev, energy_obj, f"{prefix}Energy", t.CURB_ENERGY.topic(base), "curb_collector",
             f"{{{{ value_json.circuits.get('{circuit}') }}}}", unit="kWh", device_class="energy",
             state_class="total_increasing")


def _curb(cfg, base, e: Entities, curb, measured: set[str]) -> None:
    reading, energy = t.CURB_READING.topic(base), t.CURB_ENERGY.topic(base)
    for key, label in (("consumption", "Consumption"), ("production", "Production"), ("net", "Grid")):
        e.sensor(curb, f"curb_{key}", f"{label} power", reading, "curb_collector",
                 f"{{{{ None if value_json.stale else value_json.{key}_w }}}}", unit="W",
                 device_class="power", state_class="measurement")
    for key, label in (("consumption", "Consumption"), ("production", "Production"),
                       ("import", "Grid import"), ("export", "Grid export")):
        e.sensor(curb, f"curb_{key}_energy", f"{label} energy", energy, "curb_collector",
                 f"{{{{ value_json.{key}_kwh }}}}", unit="kWh", device_class="energy",
                 state_class="total_increasing")
    _health(e, curb, "curb_health", t.CURB_HEALTH.topic(base), "curb_collector")
    for circuit in cfg.curb.circuits:
        if circuit not in measured:
            _circuit(base, e, curb, circuit, f"circuit_{circuit}_power", f"circuit_{circuit}_energy",
                     prefix=f"{readable(circuit)} ")


def _health(e: Entities, dev, obj: str, topic: str, owner: str) -> None:
    e.sensor(dev, obj, "Data health", topic, owner, "{{ value_json.state }}", device_class="enum",
             options=["ok", "stale", "offline", "error"], entity_category="diagnostic",
             attrs="{{ {'message': value_json.message, 'source': value_json.source, "
                   "'last_success': value_json.last_success, 'since': value_json.since} | tojson }}")


def _drm(cfg, base, e: Entities, via) -> None:
    for name, pol in cfg.scheduler.drm.items():
        out = cfg.drm_outputs[name]
        dev = e.device(f"drm_{name}", out.name or readable(name), "AS/NZS 4755 demand response output",
                       via=via, description=out.description)
        state, dred = t.DRM_STATE.topic(base, drm=name), t.DRED_STATE.topic(base, output=name)
        e.select(dev, f"drm_{name}", "DRM mode", t.DRM_SET.topic(base, drm=name), state,
                 "{{ 'auto' if value_json.mode == 'auto' else value_json.drm_mode | string }}",
                 ["auto"] + [str(mo) for mo in sorted(out.modes)], attrs=ATTRS, icon="mdi:air-conditioner")
        e.number(dev, f"drm_{name}_override_length", "Override length", t.DRM_SET.topic(base, drm=name),
                 pol.override_max_min)
        e.sensor(dev, f"drm_{name}_wanted", "Wanted DRM mode", state, "scheduler", "{{ value_json.drm_mode }}",
                 attrs=ATTRS, expires=t.DRM_STATE.expires, icon="mdi:target")
        e.sensor(dev, f"drm_{name}_actual", "Output DRM mode", dred, "relay_agent", "{{ value_json.mode }}",
                 attrs=RELAY_ATTRS.replace("value_json.commanded,", "value_json.commanded_mode,"),
                 expires=t.DRED_STATE.expires, icon="mdi:air-conditioner")
        e.sensor(dev, f"drm_{name}_reason", "Reason", state, "scheduler", "{{ value_json.reason.text[:255] }}",
                 attrs=ATTRS, expires=t.DRM_STATE.expires, icon="mdi:information-outline")


def publish(client, cfg: CircuitqConfig) -> int:
    """Every discovery message (retained), or an empty retained config for each when
    discovery is turned off (Home Assistant then removes the entities). Returns the count."""
    msgs = messages(cfg)
    for names, payload in msgs:
        if cfg.scheduler.ha_discovery:
            client.publish_entry(t.HA_DISCOVERY, payload, **names)
        else:
            client.publish(t.HA_DISCOVERY.topic("", **names), b"", qos=1, retain=True)
    return len(msgs)


def birth_handler(client, cfg: CircuitqConfig, log):
    """Home Assistant's birth message (`homeassistant/status` = online, e.g. after it
    restarted and lost what it knew): publish the discovery again."""
    def on_status(topic: str, payload: bytes, retained: bool) -> None:
        if payload.decode("utf-8", "replace").strip() == t.ONLINE and cfg.scheduler.ha_discovery:
            log.info("Home Assistant is online: %d discovery messages again", publish(client, cfg))
    return on_status


def birth_topic(cfg: CircuitqConfig) -> str:
    return t.HA_STATUS.topic("", discovery=cfg.mqtt.discovery_prefix)
