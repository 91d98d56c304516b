"""The planner through the scheduler service on the real broker: the retained plan, a dynamic
price series, tank sensors, refusals on circuitq/error, and what it learned kept on disk."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from circuitq import payloads as p
from circuitq import topics

from .service_helpers import BASE, fast_house

PLAN = topics.PLAN.topic(BASE)
PRICE = topics.TARIFF_PRICE.topic(BASE)
ERROR = topics.ERROR.topic(BASE)
STATUS = topics.STATUS.topic(BASE, service="scheduler")


def tank(load: str) -> str:
    return topics.LOAD_TANK.topic(BASE, load=load)


def start(config_factory, service_factory, user_probe, **extra):
    cfg = config_factory(fast_house(**extra))
    mark = user_probe.mark()
    svc = service_factory("scheduler", cfg)
    user_probe.on_topic(STATUS, lambda m: m.text == "online" and not m.retain, since=mark, timeout=15)
    return cfg, svc, mark


def test_the_plan_is_published_retained_with_24_h_of_runs_and_prices(config_factory, service_factory,
                                                                     user_probe, probe_factory, broker):
    _, _, mark = start(config_factory, service_factory, user_probe)
    plan = p.Plan.model_validate_json(user_probe.on_topic(PLAN, since=mark, timeout=15).payload)
    assert set(plan.loads) == {"water_heater_north", "water_heater_south", "pool_pump", "heat_pump_south"}
    assert plan.currency == "USD" and plan.slot_min == 15
    covered = plan.slots[-1].start - plan.slots[0].start
    assert timedelta(hours=23) <= covered <= timedelta(hours=24)
    # the north heater is blocked all day in this house ('always'): nothing planned for it
    assert plan.loads["water_heater_north"].runs == []
    assert plan.loads["pool_pump"].contract == "runtime"
    for lp in plan.loads.values():
        for r in lp.runs:
            assert r.start < r.end and (r.code.startswith("planned:") or r.code.startswith("needed:"))
    late = probe_factory(broker, "user")  # an app connecting now is handed the latest plan at once
    late.subscribe(PLAN)
    handed = late.on_topic(PLAN, lambda m: m.retain, timeout=5).json()["made"]
    made = [m.json()["made"] for m in user_probe.messages[mark:] if m.topic == PLAN and m.payload]
    assert handed in made  # the first plan, or a later one (the first readings can make it plan again)


def test_a_price_series_moves_into_the_plan_and_bad_ones_are_refused(config_factory, service_factory,
                                                                    user_probe):
    _, _, mark = start(config_factory, service_factory, user_probe, tariff={"price_topic": True})
    user_probe.on_topic(PLAN, since=mark, timeout=15)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    points = [{"start": (now + timedelta(hours=h)).isoformat(), "import_per_kwh": 0.5 if h < 3 else -0.02}
              for h in range(6)]
    mark = user_probe.mark()
    user_probe.publish(PRICE, {"points": points, "slot_min": 60})
    plan = p.Plan.model_validate_json(user_probe.on_topic(PLAN, since=mark, timeout=10).payload)
    def price_at(t):
        return next(s.import_per_kwh for s, nxt in zip(plan.slots, plan.slots[1:]) if s.start <= t < nxt.start)
    assert price_at(now + timedelta(hours=4, minutes=20)) == -0.02  # the series wins where it has points
    assert price_at(now + timedelta(hours=1, minutes=20)) == 0.5
    assert price_at(now + timedelta(hours=8)) in (0.09, 0.13, 0.27)  # beyond it: the periods again

    mark = user_probe.mark()
    user_probe.publish(PRICE, {"points": [{"start": "yesterday", "import_per_kwh": 0.1}]})
    err = user_probe.on_topic(ERROR, lambda m: m.json()["topic"] == PRICE, since=mark).json()
    assert "points.0.start" in err["error"]
    mark = user_probe.mark()
    far = (now + timedelta(days=10)).isoformat()
    user_probe.publish(PRICE, {"points": [{"start": far, "import_per_kwh": 0.1}]})
    err = user_probe.on_topic(ERROR, lambda m: m.json()["topic"] == PRICE, since=mark).json()
    assert "more than 72 h ahead" in err["error"] and "price_series_max_h" in err["error"]


def test_tank_temperatures_only_for_a_tank_with_a_sensor(config_factory, service_factory, user_probe):
    sensor = {"water_heater_south": {"hot_water": {"sensor": True}}}
    _, _, mark = start(config_factory, service_factory, user_probe, loads=sensor)
    plan0 = p.Plan.model_validate_json(user_probe.on_topic(PLAN, since=mark, timeout=15).payload)
    assert plan0.loads["water_heater_south"].need_kwh == 0.0
    mark = user_probe.mark()
    user_probe.publish(tank("water_heater_north"), {"temp_c": 50.0})
    err = user_probe.on_topic(ERROR, lambda m: m.json()["topic"] == tank("water_heater_north"), since=mark).json()
    assert "no tank sensor configured" in err["error"] and "loads.water_heater_north.hot_water.sensor" in err["error"]
    # a cold tank reported by its sensor: the planner knows it is short (a fresh plan follows)
    mark = user_probe.mark()
    user_probe.publish(tank("water_heater_south"), {"temp_c": 30.0})
    user_probe.publish(topics.LOAD_SET.topic(BASE, load="pool_pump"), "AUTO")  # an override re-plans
    plan = p.Plan.model_validate_json(user_probe.on_topic(
        PLAN, lambda m: json.loads(m.payload)["loads"]["water_heater_south"]["need_kwh"] > 5, since=mark,
        timeout=10).payload)
    assert plan.loads["water_heater_south"].need_kwh >= 190 * (60 - 30) * 0.00116 - 0.1


def test_what_the_planner_learned_is_saved_and_survives_a_restart(config_factory, service_factory, user_probe):
    cfg, svc, mark = start(config_factory, service_factory, user_probe)
    user_probe.on_topic(PLAN, since=mark, timeout=15)
    assert svc.stop() == 0
    from circuitq.config import load_config
    c = load_config(cfg, env={})
    saved = json.loads((c.state_dir / c.scheduler.state_file).read_text())
    tanks = saved["planner"]["tanks"]
    assert set(tanks) == {"water_heater_north", "water_heater_south"}
    assert len(tanks["water_heater_south"]["profile"]) == 168
    # a restart reads it back (and counts the water drawn while it was down)
    mark = user_probe.mark()
    service_factory("scheduler", cfg)
    user_probe.on_topic(STATUS, lambda m: m.text == "online" and not m.retain, since=mark, timeout=15)
    user_probe.on_topic(PLAN, since=mark, timeout=15)
