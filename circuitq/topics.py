"""The catalogue of every MQTT topic in the fleet (zigbee2mqtt-style, typed).

Each entry says who publishes it, who reads it, QoS, retained or not, and the payload.
docs/mqtt.md and mosquitto/acl are generated from this table (scripts/gen_docs.py,
mosquitto/gen_acl.py) and tests fail when they drift. Topic strings are built only here.

Patterns use `{base}` for the base topic and `{name}` placeholders for one level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import SERVICES
from . import payloads as p

USER = "user"  # the account for phones, MQTT Explorer and Node-RED
# The recorder reads what it keeps (services/recorder); the page reads states and writes only
# /set, like a phone on `user` (services/web).
RECORDER, WEB = "recorder", "web"
EVERYONE = SERVICES + (USER,)


@dataclass(frozen=True)
class Topic:
    key: str
    pattern: str
    publishers: tuple[str, ...]
    subscribers: tuple[str, ...]
    qos: int
    retained: bool
    payload: type | str
    description: str
    example: str = ""
    # A leased command is never queued while the publisher is offline: delivered minutes late
    # it would start a fresh lease on a stale decision. The publisher re-sends on reconnect.
    leased: bool = False
    # A latest-value reading: subscribers take it at QoS 0 and handle only the newest one
    # (circuitq/mqtt.py), so a burst of readings never queues ahead of a command or a /set.
    latest: bool = False
    # A retained state that must not outlive its owner: sent with an MQTT 5 message expiry and
    # re-sent with every heartbeat (circuitq/liveness.py: expire_after for Home Assistant).
    expires: bool = False
    placeholders: tuple[str, ...] = field(init=False)
    _rx: dict = field(init=False, default_factory=dict, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "placeholders", tuple(re.findall(r"\{(\w+)\}", self.pattern))[1:])

    def topic(self, base: str, **names: str) -> str:
        """The concrete topic, e.g. RELAY_COMMAND.topic('circuitq', relay='pool_pump')."""
        for k, v in names.items():
            if not v or "/" in v or "+" in v or "#" in v:
                raise ValueError(f"{self.key}: bad {k} {v!r} for a topic level")
        return self.pattern.format(base=base, **names)

    def filter(self, base: str, **names: str) -> str:
        """A subscription filter with '+' for every placeholder not given."""
        fill = {ph: names.get(ph, "+") for ph in self.placeholders}
        # a Home Assistant topic's root is the discovery prefix: `base` stands for it
        return self.pattern.format(base=base, **{"discovery": base, **fill})

    def match(self, base: str, topic: str) -> dict[str, str] | None:
        """Placeholder values if `topic` is an instance of this entry, else None."""
        rx = self._rx.get(base)
        if rx is None:  # compiled once per base: this runs for every message
            text = "^" + re.escape(self.pattern.replace("{base}", base)) + "$"
            for ph in self.placeholders:
                text = text.replace(re.escape("{" + ph + "}"), f"(?P<{ph}>[^/]+)")
            rx = self._rx[base] = re.compile(text)
        m = rx.match(topic)
        return m.groupdict() if m else None

    @property
    def payload_name(self) -> str:
        return self.payload if isinstance(self.payload, str) else self.payload.__name__


ONLINE, OFFLINE = "online", "offline"

STATUS = Topic(
    "status", "{base}/{service}/status", SERVICES, EVERYONE, 1, True,
    "text: online | offline",
    "Availability of each service. `online` once every subscription of the service is "
    "acknowledged by the broker (a command sent on seeing it is heard), `offline` as last will "
    "and on clean shutdown. `online` carries an MQTT 5 message expiry and is re-sent with each "
    "heartbeat: a retained `online` restored by a broker restart is no proof of life; the "
    "heartbeat's `expires` is. Writable only by the service itself (ACL `pattern`).",
    "online",
)
HEARTBEAT = Topic(
    "heartbeat", "{base}/{service}/heartbeat", SERVICES, EVERYONE, 1, True,
    "JSON: service, ts, expires, interval_s, started, pid, connected_since, broker, not_persisted",
    "Proof of life of each service, every `interval_s` (30 s) from its event loop, with an MQTT 5 "
    "message expiry. The service is alive only while `expires` is in the future: a heartbeat "
    "(or a retained `online`, a load or relay state) that a broker restart restored is stale "
    "once `expires` passed. `broker` says when the service last lost the broker and why; "
    "`not_persisted` lists state files it cannot write. Home Assistant: "
    "`expire_after: 75` on entities fed by this or by any topic marked *expires*.",
    '{"service": "scheduler", "ts": "2026-07-01T12:00:00+00:00", '
    '"expires": "2026-07-01T12:01:15+00:00", "interval_s": 30}',
    expires=True,
)
ERROR = Topic(
    "error", "{base}/error", SERVICES, (USER, RECORDER, WEB), 1, False, p.ErrorReport,
    "A message a service could not use (bad JSON, out of range, retained command). "
    "The service keeps running and changes nothing.",
)
ALERT = Topic(
    "alert", "{base}/alert", ("scheduler", "curb_collector", "solar_collector", "ecobee_agent",
                              "relay_agent", "notifier", RECORDER),
    ("notifier", USER, RECORDER, WEB), 1, False, p.Alert,
    "Something a person should hear about; the notifier delivers it to Prowl/apprise.",
)
ACTIVITY = Topic(
    "activity", "{base}/activity", ("scheduler", "relay_agent", "ecobee_agent"), (USER, RECORDER, WEB), 1, False,
    p.Activity, "The activity log: one readable line per decision change or switch.",
)

RELAY_COMMAND = Topic(
    "relay_command", "{base}/relay/{relay}/command", ("scheduler",), ("relay_agent", RECORDER), 1, False,
    p.RelayCommand,
    "Absolute relay state under a lease. Only the scheduler may publish; retained messages "
    "are refused by the relay agent.",
    '{"state": "on", "lease_s": 300, "id": "a1b2"}', leased=True,
)
RELAY_STATE = Topic(
    "relay_state", "{base}/relay/{relay}/state", ("relay_agent",), ("scheduler", "notifier", USER, RECORDER, WEB),
    1, True, p.RelayState, "Relay level read back from the pin, with lease, pending hold and wear.",
    expires=True,
)
DRED_COMMAND = Topic(
    "dred_command", "{base}/dred/{output}/command", ("scheduler",), ("relay_agent", RECORDER), 1, False,
    p.DrmCommand, "AS/NZS 4755 DRM mode for a DRED output, under a lease.",
    '{"mode": 2, "lease_s": 300, "id": "c3d4"}', leased=True,
)
DRED_STATE = Topic(
    "dred_state", "{base}/dred/{output}/state", ("relay_agent",), ("scheduler", USER, RECORDER, WEB), 1, True,
    p.DrmState, "DRM mode asserted by the relay levels read back.", expires=True,
)

CURB_READING = Topic(
    "curb_reading", "{base}/curb/reading", ("curb_collector",), ("scheduler", "notifier", USER, RECORDER, WEB),
    1, True, p.CurbReading, "One Curb snapshot: every mapped circuit, totals, content timestamp.",
    latest=True,
)
CURB_CIRCUIT = Topic(
    "curb_circuit", "{base}/curb/circuit/{circuit}", ("curb_collector",), (USER,), 0, True,
    p.CircuitPower, "Watts of one circuit, for dashboards.", latest=True,
)
CURB_HEALTH = Topic(
    "curb_health", "{base}/curb/health", ("curb_collector",), ("scheduler", "notifier", USER, RECORDER, WEB),
    1, True, p.Health, "Whether the Curb API answers and its data is fresh.",
)
CURB_ENERGY = Topic(
    "curb_energy", "{base}/curb/energy", ("curb_collector",), (USER,), 1, True, p.EnergyTotals,
    "Energy in kWh integrated from the Curb readings: consumption, production, grid import and "
    "export, and each circuit. The counters only grow and survive restarts (state_dir), so Home "
    "Assistant's Energy dashboard can use them (`state_class: total_increasing`).",
)
SOLAR_PRODUCTION = Topic(
    "solar_production", "{base}/solar/production", ("solar_collector",),
    ("scheduler", "notifier", USER, RECORDER, WEB), 1, True, p.SolarReading,
    "Solar production in watts with the source's own timestamp.", latest=True,
)
SOLAR_HEALTH = Topic(
    "solar_health", "{base}/solar/health", ("solar_collector",), ("scheduler", "notifier", USER, RECORDER, WEB),
    1, True, p.Health, "Health of the solar source in use (and which one).",
)
SOLAR_SOURCE_HEALTH = Topic(
    "solar_source_health", "{base}/solar/source/{source}/health", ("solar_collector",),
    ("notifier", USER, RECORDER, WEB), 1, True, p.Health,
    "Health of each configured solar source (the fallbacks too), by source name.",
)
SOLAR_INPUT = Topic(
    "solar_input", "{base}/solar/input/{source}", (USER,), ("solar_collector",), 1, False,
    'number of watts, or JSON such as {"w": 1234, "ts": 1767225600}',
    "Solar production fed by Node-RED or a script, read by an `mqtt` solar source named "
    "<source> (config `json_path`/`ts_path`). A foreign topic such as `shellies/...` needs an "
    "extra ACL line instead.",
    "1234",
)

LOAD_SET = Topic(
    "load_set", "{base}/load/{load}/set", (USER, "scheduler", WEB), ("scheduler", RECORDER, WEB), 1, False,
    "text ON|OFF|AUTO, or OverrideSet JSON",
    "User override for a load: `ON`, `OFF`, `AUTO` (any case), `true`/`false`, `1`/`0`, "
    '`{"state": "ON"}` (zigbee2mqtt), `{"mode": "on", "minutes": 90}` or '
    '`{"mode": "off", "until": "2026-07-01T18:00:00-04:00"}`; `{"minutes": 45}` alone sets the '
    "length of the next override (and of the running one). "
    "The scheduler clears a retained /set (it publishes an empty retained message).",
    "ON",
)
LOAD_STATE = Topic(
    "load_state", "{base}/load/{load}/state", ("scheduler",), ("notifier", USER, RECORDER, WEB), 1, True,
    p.LoadState, "The scheduler's decision for a load (the wish: `permitted`), with a machine-readable "
    "reason, and under `actual` what its relay does (level read back, a held change and when it "
    "may happen), so one topic says both. "
    "Valid only while the scheduler is: it expires with the scheduler's heartbeat, and the "
    "scheduler's last will (`circuitq/scheduler/status` offline) marks it unavailable.",
    expires=True,
)
DRM_SET = Topic(
    "drm_set", "{base}/drm/{drm}/set", (USER, "scheduler", WEB), ("scheduler", RECORDER, WEB), 1, False,
    "text AUTO|0|1|2|3, or OverrideSet JSON",
    'User override of a DRM output: `AUTO`, a mode number, `{"state": 2}`, '
    '`{"mode": 2, "minutes": 60}`, or `{"minutes": 60}` alone (the override length).',
    "2",
)
DRM_STATE = Topic(
    "drm_state", "{base}/drm/{drm}/state", ("scheduler",), (USER, RECORDER, WEB), 1, True, p.DrmLoadState,
    "The DRM mode the scheduler wants and why, and under `actual` the mode the output asserts "
    "(with a held change, if any).", expires=True,
)

ECOBEE_SHED = Topic(
    "ecobee_shed", "{base}/ecobee/{thermostat}/shed", ("scheduler",), ("ecobee_agent", RECORDER), 1, False,
    p.ShedRequest, "Shed request for a smart heat pump, under a lease; shed=false ends it.",
    '{"shed": true, "reason": "dryer running", "lease_s": 600, "id": "e5"}', leased=True,
)
ECOBEE_STATE = Topic(
    "ecobee_state", "{base}/ecobee/{thermostat}/state", ("ecobee_agent",), ("scheduler", USER, RECORDER, WEB),
    1, True, p.ThermostatState, "Thermostat reading, equipment running, current hold.",
)

PLAN = Topic(
    "plan", "{base}/plan", ("scheduler",), (USER, WEB), 1, True, p.Plan,
    "The planner's next hours: per planned load when it will run and why, the expected cost, "
    "and the prices and solar forecast it planned with. Re-made when the picture changes.",
)
TARIFF_PRICE = Topic(
    "tariff_price", "{base}/tariff/price", (USER,), ("scheduler", RECORDER, WEB), 1, True, p.PriceSeries,
    "A dynamic price series (config `tariff.price_topic: true`), e.g. from Node-RED or Home "
    "Assistant. Retained so that a restarted scheduler has it; a new series replaces the old.",
    '{"points": [{"start": "2026-07-01T14:00:00-04:00", "import_per_kwh": 0.31}]}',
)
LOAD_TANK = Topic(
    "load_tank", "{base}/load/{load}/tank", (USER,), ("scheduler",), 1, True, p.TankTemperature,
    "A water heater's tank temperature from a sensor (config `hot_water.sensor: true`); the "
    "planner then knows the tank's heat instead of estimating it.",
    '{"temp_c": 57.5}',
)
SOLAR_FORECAST = Topic(
    "solar_forecast", "{base}/solar/forecast", ("solar_collector",), ("scheduler", USER, WEB), 1, True,
    p.SolarForecast, "Production expected from a forecast service (Forecast.Solar or Open-Meteo).",
)

HA_DISCOVERY = Topic(
    "ha_discovery", "{discovery}/{component}/{node}/{object}/config", ("scheduler",), (USER,),
    1, True, "Home Assistant discovery JSON",
    "Home Assistant MQTT discovery (prefix `homeassistant` by default; can be turned off).",
)

HA_STATUS = Topic(
    "ha_status", "{discovery}/status", (USER,), ("scheduler",), 1, False, "text: online | offline",
    "Home Assistant's birth and last will (Home Assistant logs in as `user`). On `online` the "
    "scheduler publishes its discovery messages again.",
    "online",
)

CATALOGUE: tuple[Topic, ...] = (
    STATUS, HEARTBEAT, ERROR, ALERT, ACTIVITY,
    RELAY_COMMAND, RELAY_STATE, DRED_COMMAND, DRED_STATE,
    CURB_READING, CURB_CIRCUIT, CURB_HEALTH, CURB_ENERGY, SOLAR_PRODUCTION, SOLAR_HEALTH,
    SOLAR_SOURCE_HEALTH, SOLAR_INPUT,
    LOAD_SET, LOAD_STATE, DRM_SET, DRM_STATE,
    ECOBEE_SHED, ECOBEE_STATE,
    PLAN, TARIFF_PRICE, LOAD_TANK, SOLAR_FORECAST,
    HA_DISCOVERY, HA_STATUS,
)
BY_KEY = {t.key: t for t in CATALOGUE}


def find(base: str, topic: str) -> tuple[Topic, dict[str, str]] | None:
    for t in CATALOGUE:
        if t is HA_DISCOVERY or t is HA_STATUS:  # under the discovery prefix, not the base
            continue
        m = t.match(base, topic)
        if m is not None:
            return t, m
    return None
