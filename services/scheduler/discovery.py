"""Home Assistant MQTT discovery: a select per controllable load (auto/on/off -> its /set),
a power sensor and a running binary_sensor per load, a select per DRM output.
Availability follows circuitq/scheduler/status. Pure: returns (names, payload) pairs."""
from __future__ import annotations

import re

from circuitq import topics as t
from circuitq.config import CircuitqConfig


def messages(cfg: CircuitqConfig) -> list[tuple[dict, dict]]:
    """[(topic names for HA_DISCOVERY, config payload)] for every entity."""
    base = cfg.mqtt.base_topic
    prefix = cfg.mqtt.discovery_prefix
    node = re.sub(r"[^A-Za-z0-9_-]", "_", base)
    device = {"identifiers": [f"{node}_scheduler"], "name": f"circuitq ({cfg.site.name})",
              "manufacturer": "circuitq", "model": "scheduler"}
    common = {"availability_topic": t.STATUS.topic(base, service="scheduler"),
              "payload_available": t.ONLINE, "payload_not_available": t.OFFLINE, "device": device}
    out = []

    def add(component: str, obj: str, payload: dict) -> None:
        names = {"discovery": prefix, "component": component, "node": node, "object": obj}
        out.append((names, {**payload, "unique_id": f"{node}_{obj}", "object_id": f"{node}_{obj}", **common}))

    for name, lc in cfg.loads.items():
        state = t.LOAD_STATE.topic(base, load=name)
        if lc.kind != "observed":
            add("select", f"{name}_mode", {
                "name": f"{name} mode", "command_topic": t.LOAD_SET.topic(base, load=name),
                "state_topic": state, "value_template": "{{ value_json.mode }}",
                "options": ["auto", "on", "off"], "icon": "mdi:tune-variant"})
        add("sensor", f"{name}_power", {
            "name": f"{name} power", "state_topic": state, "value_template": "{{ value_json.power_w }}",
            "unit_of_measurement": "W", "device_class": "power", "state_class": "measurement"})
        add("binary_sensor", f"{name}_running", {
            "name": f"{name} running", "state_topic": state,
            "value_template": "{{ 'ON' if value_json.running else 'OFF' }}", "device_class": "running"})
    for name in cfg.scheduler.drm:
        modes = sorted(cfg.drm_outputs[name].modes)
        add("select", f"drm_{name}", {
            "name": f"{name} DRM", "command_topic": t.DRM_SET.topic(base, drm=name),
            "state_topic": t.DRM_STATE.topic(base, drm=name),
            "value_template": "{{ 'auto' if value_json.mode == 'auto' else value_json.drm_mode | string }}",
            "options": ["auto"] + [str(mo) for mo in modes], "icon": "mdi:air-conditioner"})
    return out
