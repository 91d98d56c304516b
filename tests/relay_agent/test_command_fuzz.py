"""Arbitrary payloads on the command topics: the agent never dies and nothing switches.

Property-based against the pure command path in-process (fast: hundreds of examples), then a
smaller batch of the same garbage through the broker at a running agent subprocess."""
from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circuitq import topics
from circuitq.clock import FakeClock
from circuitq.config import load_config
from services.relay_agent.core import CommandError, Now
from services.relay_agent.fleet import KINDS, Fleet
from tests.conftest import EXAMPLE

from .helpers import dred_cmd, fast, pins, relay_cmd, start_agent

CFG = load_config(EXAMPLE, env={})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10)
command_like = st.fixed_dictionaries({}, optional={
    "state": st.sampled_from(["on", "off", "ON", "toggle", ""]) | json_values,
    "mode": st.sampled_from([0, 1, 2, 3, 4, -1, "2", 2.0]) | json_values,
    "lease_s": st.floats(allow_nan=True, allow_infinity=True) | st.integers() | json_values,
    "id": st.text(max_size=80) | json_values,
    "force": json_values,
})
lease_and_id = {
    "lease_s": st.floats(min_value=0.5, max_value=2000) | st.sampled_from([0, -5, 900, 1800, 1e308]),
    "id": st.text(min_size=1, max_size=10) | st.sampled_from(["", "i" * 65]),
}
near_valid = (st.fixed_dictionaries({"state": st.sampled_from(["on", "off"]), **lease_and_id})
              | st.fixed_dictionaries({"mode": st.sampled_from([0, 1, 2, 3]), **lease_and_id}))
payloads = st.one_of(st.binary(max_size=200),
                     json_values.map(lambda v: json.dumps(v).encode()),
                     command_like.map(lambda v: json.dumps(v).encode()),
                     *[near_valid.map(lambda v: json.dumps(v).encode())] * 3)
targets = (st.sampled_from([("relay", n) for n in sorted(CFG.relays)] + [("drm", n) for n in CFG.drm_outputs])
           | st.tuples(st.sampled_from(sorted(KINDS)), st.sampled_from(["", "nope", "x" * 300, "pool_pump"])))


def snapshot(fleet: Fleet):
    return [(k, n, c.value, c.commanded, c.lease_until, c.pending, c.switch_count) for k, n, c in fleet.all()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=targets, payload=payloads, retained=st.sampled_from([False, False, False, True]))
def test_any_payload_is_either_a_valid_command_or_refused_without_change(target, payload, retained):
    kind, name = target
    clock = FakeClock()
    now = Now(clock.monotonic(), clock.now())
    fleet = Fleet(CFG, now)
    before = snapshot(fleet)
    try:
        fleet.command(kind, name, payload, retained, now)
    except CommandError as exc:
        assert exc.field and str(exc)
        assert snapshot(fleet) == before  # refused: nothing changed at all
        return
    # Accepted: it really was a well-formed, in-range, non-retained command for a known output.
    assert not retained and name in fleet.cores[kind]
    cmd = KINDS[kind].model.model_validate_json(payload, strict=True)
    assert cmd.lease_s <= fleet.cores[kind][name].limits.max_lease_s


def garbage(n: int, seed: int = 4755) -> list[bytes]:
    rnd = random.Random(seed)
    shapes = [
        lambda: bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 40))),
        lambda: json.dumps({"state": rnd.choice(["on", "off", 1, None]), "lease_s": rnd.choice([-1, 0, "9", 1e9]),
                            "id": "z"}).encode(),
        lambda: json.dumps([rnd.random() for _ in range(3)]).encode(),
        lambda: json.dumps({"mode": rnd.choice([5, "3", None, [2]]), "lease_s": 5, "id": "q"}).encode(),
        lambda: b"",
        lambda: json.dumps({"state": "off", "lease_s": 5, "id": "x" * 65}).encode(),
    ]
    return [rnd.choice(shapes)() for _ in range(n)]


def test_garbage_through_the_broker_switches_nothing_and_the_agent_stays_up(
        config_factory, service_factory, user_probe, probe_factory, broker):
    cfg = config_factory(fast())
    agent = start_agent(service_factory, cfg, user_probe)
    sched = probe_factory(broker, "scheduler")
    before = pins(cfg)
    mark = user_probe.mark()
    batch = garbage(30)
    for i, payload in enumerate(batch):
        sched.publish(relay_cmd("pool_pump") if i % 2 else dred_cmd(), payload)
    error = topics.ERROR.topic("circuitq")
    user_probe.wait_for(lambda m: m.topic == error and
                        len([x for x in user_probe.messages[mark:] if x.topic == error]) >= len(batch), timeout=10)
    assert pins(cfg) == before and agent.alive()
    assert not [m for m in user_probe.messages[mark:] if m.topic == topics.ACTIVITY.topic("circuitq")]


# JSON spellings that pydantic (even strict) coerces to a valid value. A DRM mode is a number a
# person reads off the standard; `true` is not mode 1 (compressor off) and 2.0 is not mode 2.
COERCED = [
    ("drm", "aircon", b'{"mode": true, "lease_s": 30, "id": "b"}', "mode"),
    ("drm", "aircon", b'{"mode": false, "lease_s": 30, "id": "b"}', "mode"),
    ("drm", "aircon", b'{"mode": 2.0, "lease_s": 30, "id": "f"}', "mode"),
    ("drm", "aircon", b'{"mode": 3, "lease_s": NaN, "id": "n"}', "lease_s"),
    ("drm", "aircon", b'{"mode": 3, "lease_s": Infinity, "id": "i"}', "lease_s"),
    ("drm", "aircon", b'{"mode": 3, "lease_s": 1e400, "id": "i"}', "lease_s"),
    ("relay", "pool_pump", b'{"state": "off", "lease_s": -0.0, "id": "z"}', "lease_s"),
    ("relay", "pool_pump", b'{"state": "off", "lease_s": "30", "id": "s"}', "lease_s"),
    ("relay", "pool_pump", b'{"state": "off", "lease_s": true, "id": "t"}', "lease_s"),
    # Duplicate keys: Python and pydantic keep the last, other parsers the first. Ambiguous.
    ("relay", "pool_pump", b'{"state": "off", "lease_s": 30, "id": "d", "state": "on"}', "state"),
    ("drm", "aircon", b'{"mode": 1, "lease_s": 30, "id": "d", "mode": 0}', "mode"),
]


def test_coerced_json_values_are_refused_naming_the_field():
    import pytest
    from circuitq.config import CircuitqConfig
    cfg = CircuitqConfig.model_validate({  # direct wiring: mode 1 is wired, so only the type can refuse it
        "relays": {"pool_pump": {"pin": 13, "min_on_s": 0}},
        "drm_outputs": {"aircon": {"wiring": "direct", "min_dwell_s": 0,
                                   "relays": {"drm1": {"pin": 20}, "drm2": {"pin": 21}, "drm3": {"pin": 26}}}}})
    for kind, name, payload, field in COERCED:
        clock = FakeClock()
        now = Now(clock.monotonic(), clock.now())
        fleet = Fleet(cfg, now)
        before = snapshot(fleet)
        with pytest.raises(CommandError) as err:
            fleet.command(kind, name, payload, False, now)
        assert field in str(err.value), (payload, str(err.value))
        assert snapshot(fleet) == before, payload
