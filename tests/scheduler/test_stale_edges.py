"""Rule 9 at its edges: a source flapping at its age limit, stale 'hold' at start-up."""
from services.scheduler import model as m

from .harness import Sim, config, relay
from .test_stale_drm_shed import NOW, WHN, WHS, house


def test_hold_without_a_last_decision_is_not_a_blind_shed():
    # stale: hold keeps the last decision; at start-up without Curb data there is none, and
    # shedding the heat pump blind (or keeping a heater off) is not "holding" anything
    sim = Sim(house(startup_grace_s=5), NOW)
    sim.feeding = False  # the Curb collector is down as we start
    sim.event(m.Tick())
    sim.run(600)
    assert sim.permitted("hp") and sim.code("hp") == "fallback:hold"  # kept as first decided
    assert ("hp: ON (fallback:windows): no fresh Curb data since start-up: time windows only, one load at a time"
            in sim.activity())
    assert not [c for _, c in sim.cmds(m.ShedCmd) if c.shed]


def test_data_flapping_between_stale_and_fresh_does_not_flap_the_house():
    # a hub lagging right at the collector's age limit: every other reading is flagged stale.
    # One alert, not one a minute; the queue stays in its fallback until data is fresh again
    # for fresh_again_s (default 120 s), so the heaters do not switch with every reading.
    sim = Sim(config({WHN: relay(50), WHS: relay(40)}, scheduler={"max_running": 2}), NOW)
    sim.demand = {WHN: 4500, WHS: 4500}
    sim.run(600)
    n = [0]

    def flapping():
        n[0] += 1
        sim.event(m.Reading(sim.circuits(), sim.now, stale=n[0] % 2 == 0))
    sim.feed = flapping
    t0 = sim.now
    sim.run(3600)
    alerts = [a for a in sim.alerts() if a.key == "stale:curb"]
    assert [a.resolved for a in alerts] == [False]
    # one load leaves for the fallback (one at a time), then one rotation after stale_rotate_min
    assert sum(1 for x in (WHN, WHS) for t, _ in sim.relay_switches(x) if t >= t0) <= 3
    del sim.feed  # fresh again, for good
    sim.run(180)
    assert [a.resolved for a in sim.alerts() if a.key == "stale:curb"] == [False, True]
    assert sim.on() == {WHN, WHS}
