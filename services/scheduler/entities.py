"""Builders for Home Assistant discovery payloads (single-component discovery): a device
table and one method per component, so every payload carries the same identity, origin and
availability keys. Used by discovery.py; pure."""
from __future__ import annotations

from typing import Callable


def readable(key: str) -> str:
    """water_heater_north -> 'Water heater north' (a config key as people read it)."""
    text = key.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


class Entities:
    def __init__(self, prefix: str, node: str, origin: dict, status_topic: Callable[[str], str],
                 expire_after_s: int):
        self.prefix, self.node, self.origin = prefix, node, origin
        self.status_topic, self.expire_after_s = status_topic, expire_after_s
        self.out: list[tuple[dict, dict]] = []
        self.devices: dict[str, dict] = {}

    def device(self, key: str, name: str, model: str, sw_version: str | None = None, via: dict | None = None,
               manufacturer: str = "circuitq", description: str = "") -> dict:
        dev = {"identifiers": [f"{self.node}_{key}"], "name": name, "manufacturer": manufacturer,
               "model": model}
        if description:
            dev["model"] = f"{model}: {description}"[:120]
        if sw_version:
            dev["sw_version"] = sw_version
        if via is not None:
            dev["via_device"] = via["identifiers"][0]
        self.devices[key] = dev
        return dev

    def _add(self, component: str, obj: str, device: dict, owner: str | None, payload: dict) -> None:
        uid = f"{self.node}_{obj}"
        cfg = {**payload, "unique_id": uid, "default_entity_id": f"{component}.{uid}",
               "device": device, "origin": self.origin}
        if owner is not None:
            cfg["availability"] = [{"topic": self.status_topic(owner)}]
        cfg = {k: v for k, v in cfg.items() if v is not None}
        names = {"discovery": self.prefix, "component": component, "node": self.node, "object": obj}
        self.out.append((names, cfg))

    def sensor(self, device, obj, name, state_topic, owner, template, *, unit=None, device_class=None,
               state_class=None, options=None, attrs=None, expires=False, icon=None, entity_category=None):
        self._add("sensor", obj, device, owner, {
            "name": name, "state_topic": state_topic, "value_template": template,
            "unit_of_measurement": unit, "device_class": device_class, "state_class": state_class,
            "options": options, "icon": icon, "entity_category": entity_category,
            **self._attrs(state_topic, attrs), **self._expiry(expires)})

    def binary_sensor(self, device, obj, name, state_topic, owner, template, *, device_class=None,
                      payload_on=None, payload_off=None, attrs=None, expires=False, icon=None,
                      entity_category=None):
        self._add("binary_sensor", obj, device, owner, {
            "name": name, "state_topic": state_topic, "value_template": template,
            "payload_on": payload_on, "payload_off": payload_off, "device_class": device_class,
            "icon": icon, "entity_category": entity_category,
            **self._attrs(state_topic, attrs), **self._expiry(expires)})

    def select(self, device, obj, name, command_topic, state_topic, template, options, *, attrs=None, icon=None):
        self._add("select", obj, device, "scheduler", {
            "name": name, "command_topic": command_topic, "state_topic": state_topic,
            "value_template": template, "options": options, "icon": icon, "qos": 1,
            **self._attrs(state_topic, attrs)})

    def number(self, device, obj, name, command_topic, max_min: float):
        """The length of the next override (and of a running one): {"minutes": N} on /set.
        No state topic: Home Assistant keeps the value itself (optimistic) across its restarts."""
        self._add("number", obj, device, "scheduler", {
            "name": name, "command_topic": command_topic, "command_template": '{"minutes": {{ value }}}',
            "min": 1, "max": float(max_min), "step": 1, "mode": "box", "unit_of_measurement": "min",
            "optimistic": True, "icon": "mdi:timer-outline", "entity_category": "config", "qos": 1})

    def _attrs(self, state_topic: str, template: str | None) -> dict:
        if template is None:
            return {}
        return {"json_attributes_topic": state_topic, "json_attributes_template": template}

    def _expiry(self, expires: bool) -> dict:
        return {"expire_after": self.expire_after_s} if expires else {}
