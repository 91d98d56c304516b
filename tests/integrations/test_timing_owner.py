"""One owner for each timing rule: the relay agent's holds (minimum on/off time, starts per
hour, DRM dwell and changes per hour) are the safety net, and the scheduler plans with the
same limits. Closed loop over a busy hour: the scheduler's core, its commands into the
relay agent's own decision core, and the agent's read-back (level, since, held change) back
into the scheduler. The agent must never have to hold a wish, so what the output does is
always what the scheduler currently wants."""
from __future__ import annotations

import copy
from datetime import timedelta

from circuitq.config import CircuitqConfig
from services.relay_agent.core import Now, OutputCore
from services.relay_agent.drm import DrmWiring
from services.relay_agent.fleet import drm_limits, relay_limits
from services.scheduler import model as m
from tests.scheduler.harness import Sim, at, observed, relay

WHN, POOL = "water_heater_north", "pool_pump"


def house(drm_dwell_s: float = 120) -> CircuitqConfig:
    limits = {"min_on_s": 300, "min_off_s": 240, "max_starts_per_hour": 4, "max_lease_s": 900}
    return CircuitqConfig.model_validate(copy.deepcopy({
        "site": {"timezone": "UTC", "country": "US"},
        "relays": {WHN: {"pin": 5, **limits}, POOL: {"pin": 13, **limits}},
        "drm_outputs": {"aircon": {"relays": {"drm2": {"pin": 17}, "drm3": {"pin": 27}},
                                   "min_dwell_s": drm_dwell_s, "max_changes_per_hour": 6}},
        "scheduler": {"settle_s": 30, "startup_grace_s": 0, "max_running": 2,
                      "drm": {"aircon": {"min_dwell_s": 0, "hysteresis_w": 0}}},
        "loads": {"kitchen": observed(90, 3000),
                  WHN: relay(50, block_when=[{"load": "kitchen"}]),
                  POOL: relay(10, block_when=[{"load": "kitchen"}])},
    }))


class Agent:
    """The relay agent's decision cores for the house, on the simulation's clock."""

    def __init__(self, cfg: CircuitqConfig, sim: Sim):
        self.sim, self.t0 = sim, sim.now
        now = self.now()
        self.cores = {r: OutputCore(r, relay_limits(rc), rc.safe_state, rc.boot_state, now)
                      for r, rc in cfg.relays.items()}
        for name, dc in cfg.drm_outputs.items():
            self.cores[name] = OutputCore(name, drm_limits(dc, DrmWiring(name, dc)), dc.safe_mode, dc.boot_mode, now)
        self.held: list = []

    def now(self) -> Now:
        return Now(1000.0 + (self.sim.now - self.t0).total_seconds(), self.sim.now)

    def step(self) -> None:
        """Carry out the scheduler's new commands and report back, as the agent does."""
        for _, c in [x for x in self.sim.log[self.seen:]] if hasattr(self, "seen") else []:
            if isinstance(c, (m.RelayCmd, m.DrmCmd)):
                core = self.cores[c.relay if isinstance(c, m.RelayCmd) else c.output]
                core.command(self.now(), c.state if isinstance(c, m.RelayCmd) else c.mode, c.lease_s, "id")
                if core.pending is not None:
                    self.held.append((self.sim.now, core.name, core.pending.code))
        self.seen = len(self.sim.log)
        for name, core in self.cores.items():
            core.tick(self.now())
            p = core.pending
            pending = None if p is None else (str(p.value), p.code, p.code, p.eligible_wall)
            if name in self.sim.cfg.relays:
                self.sim.event(m.RelayFeedback(name, core.value, core.since_wall, pending))
            else:
                self.sim.event(m.DrmFeedback(name, core.value, core.since_wall, pending))
        self.seen = len(self.sim.log)


def run(sim: Sim, agent: Agent, seconds: int, step_s: int = 10) -> None:
    for _ in range(seconds // step_s):
        sim.run(step_s)
        agent.step()


def test_relays_never_hold_a_wish_over_a_busy_hour():
    cfg = house()
    sim = Sim(cfg, at("2026-07-01T12:00"), step_s=10, solar=5000)
    sim.demand = {WHN: 4500, POOL: 1500}
    agent = Agent(cfg, sim)
    agent.seen = 0
    for minute in range(60):  # the kitchen flips every 3 minutes: the policy would chatter
        sim.observed = {"kitchen": 4000.0 if (minute // 3) % 2 else 0.0}
        run(sim, agent, 60)
    # The relays boot on (their safe state) at the scheduler's start; the agent alone knows how
    # long they have been on, so the first minimum on time after a boot is its hold (by design).
    booted = sim.st.boot_at + timedelta(seconds=cfg.relays[WHN].min_on_s)
    assert [h for h in agent.held if h[0] > booted] == []
    switches = sim.relay_switches(WHN) + sim.relay_switches(POOL)
    assert len(switches) >= 4  # it did switch: the limits shaped it, they did not freeze it
    for name in (WHN, POOL):  # the output is what the scheduler wants now
        assert (agent.cores[name].value == "on") == sim.permitted(name)
    codes = {c.state["reason"]["code"] for _, c in sim.cmds(m.PublishLoad)}
    assert {"holding:min_on", "waiting:min_off"} <= codes  # the scheduler said why it waited


def test_drm_output_never_holds_a_wish_under_passing_clouds():
    cfg = house(drm_dwell_s=120)
    clouds = lambda now: 300.0 if (now.minute // 2) % 2 else 900.0  # noqa: E731 - every 2 minutes
    sim = Sim(cfg, at("2026-07-01T12:00"), step_s=10, solar=clouds)
    agent = Agent(cfg, sim)
    agent.seen = 0
    run(sim, agent, 3600)
    booted = sim.st.boot_at + timedelta(seconds=cfg.relays[WHN].min_on_s)  # the relays' boot hold, as above
    assert [h for h in agent.held if h[0] > booted or h[1] == "aircon"] == []
    d = sim.st.drm["aircon"]
    assert agent.cores["aircon"].value == d.mode  # applied == wished
    modes = [c.mode for _, c in sim.cmds(m.DrmCmd)]
    changes = sum(1 for a, b in zip(modes, modes[1:]) if a != b)
    assert 3 <= changes <= 6  # the change budget (6 an hour) bounds it; dwell 120 s spaces it
    assert any(c.state["reason"]["code"].startswith("holding:") for _, c in sim.cmds(m.PublishDrm))
    assert d.next_change is None or d.next_change > sim.now - timedelta(seconds=1)
