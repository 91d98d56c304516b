"""Edge cases a user would notice: a circuit missing from a reading."""

from services.scheduler import model as m

from .harness import Sim, at, config, observed, relay

WHN, POOL = "water_heater_north", "pool_pump"


def test_a_circuit_missing_from_one_reading_is_not_read_as_zero():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50)})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 4500}
    sim.observed["kitchen"] = 6000
    sim.run(600)
    assert not sim.permitted(WHN) and sim.code(WHN) == "queued"
    sim.event(m.Reading({WHN: 0.0}, sim.now))  # the collector dropped the kitchen circuit once
    assert sim.st.loads["kitchen"].running and not sim.permitted(WHN)
    assert sim.st.circuits.get("kitchen") == 6000  # block_when sums see it too


def test_a_circuit_missing_for_longer_than_the_reading_timeout_is_unknown():
    cfg = config({"kitchen": observed(100, 4000), WHN: relay(50)},
                 scheduler={"data": {"reading_timeout_s": 300}})
    sim = Sim(cfg, at("2026-07-01T12:00"))
    sim.demand = {WHN: 4500}
    sim.observed["kitchen"] = 6000
    sim.run(600)
    del sim.observed["kitchen"]  # gone from every reading (a renamed circuit, a dead CT)
    sim.run(240)
    assert not sim.permitted(WHN)
    sim.run(300)  # not seen for longer than reading_timeout_s: no longer assumed running
    assert sim.st.loads["kitchen"].power_w is None and not sim.st.loads["kitchen"].running
    assert sim.permitted(WHN)
