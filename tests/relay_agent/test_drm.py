"""DRM transitions never pass through a mode nobody asked for (all ordered pairs of modes),
checked against an independent model of the contacts, and through the real GPIO write path."""
from __future__ import annotations

import json
from itertools import permutations

import pytest
import yaml

from circuitq.config import CircuitqConfig, ConfigError
from circuitq.config.relays import DrmOutputConfig
from services.relay_agent.drm import DrmWiring
from services.relay_agent.gpio.sim import SimGPIO
from services.relay_agent.hardware import Hardware, check_wirings, resolve_channels


def dreadpi_contacts(levels) -> int:
    """dreadpi's relay board: RLA1 NO -> DRM2; RLA2 COM fed from RLA1 NC; RLA2 NO -> DRM3."""
    drm2 = levels["drm2"]
    drm3 = (not levels["drm2"]) and levels["drm3"]
    assert not (drm2 and drm3)  # the wiring makes both asserted at once impossible
    return 2 if drm2 else 3 if drm3 else 0


def direct_terminals(levels) -> int | None:
    """One relay per DRM terminal; the appliance obeys the most restrictive asserted mode."""
    asserted = sorted(int(r[3]) for r, on in levels.items() if on)
    return asserted[0] if asserted else 0


CASES = {
    "dreadpi": (DrmOutputConfig(relays={"drm2": {"pin": 17}, "drm3": {"pin": 27}}), dreadpi_contacts),
    "direct": (DrmOutputConfig(wiring="direct", relays={f"drm{i}": {"pin": 20 + i} for i in (1, 2, 3)}),
               direct_terminals),
}


@pytest.mark.parametrize("wiring", sorted(CASES))
def test_every_ordered_pair_of_modes_only_passes_through_old_or_new(wiring):
    cfg, physics = CASES[wiring]
    w = DrmWiring("aircon", cfg)
    assert w.problems() == []
    pairs = list(permutations(sorted(w.modes), 2))
    assert len(pairs) == {"dreadpi": 6, "direct": 12}[wiring]
    for a, b in pairs:
        levels = dict(w.modes[a])
        assert physics(levels) == a
        plan = w.plan(levels, b)
        for relay, energise in plan:
            levels[relay] = energise
            assert physics(levels) in (a, b), f"{a}->{b} passed through {physics(levels)} via {plan}"
        assert levels == w.modes[b] and physics(levels) == b


def test_dreadpi_orders_are_the_documented_ones():
    w = DrmWiring("aircon", CASES["dreadpi"][0])
    assert w.plan(w.modes[2], 3) == [("drm3", True), ("drm2", False)]  # energise drm3 first
    assert w.plan(w.modes[3], 2) == [("drm2", True), ("drm3", False)]  # energise drm2 first
    assert w.effective({"drm2": True, "drm3": True}) == 2  # both energised = DRM2


def test_wiring_without_a_safe_order_is_refused_at_start():
    # Relay b alone asserts 3, a alone asserts nothing: 0->2 must pass through 3 or an unknown set.
    data = {"drm_outputs": {"aircon": {"wiring": "direct", "relays": {"a": {"pin": 17}, "b": {"pin": 27}},
                                       "modes": {0: {"a": "off", "b": "off"}, 2: {"a": "on", "b": "on"},
                                                 3: {"a": "off", "b": "on"}}}}}
    with pytest.raises(ConfigError) as err:
        check_wirings(CircuitqConfig.model_validate(data))
    assert "drm_outputs.aircon" in str(err.value) and "from mode 0 to mode 2" in str(err.value)


def test_modes_table_contradicting_the_dreadpi_wiring_is_refused():
    data = {"drm_outputs": {"aircon": {"relays": {"drm2": {"pin": 17}, "drm3": {"pin": 27}},
                                       "modes": {0: {"drm2": "off", "drm3": "off"},
                                                 3: {"drm2": "on", "drm3": "on"}}}}}
    with pytest.raises(ConfigError, match=r"modes.3: these relay levels assert mode 2"):
        check_wirings(CircuitqConfig.model_validate(data))


class RecordingGPIO(SimGPIO):
    def __init__(self):
        super().__init__(None)
        self.after_each_write = []

    def write(self, ch, level):
        super().write(ch, level)
        self.after_each_write.append({c.name.split(".")[1]: c.is_on(self.levels[b])
                                      for b, c in self.channels.items()})


@pytest.mark.parametrize("wiring", sorted(CASES))
def test_hardware_writes_keep_every_intermediate_read_back_safe(wiring):
    dc, physics = CASES[wiring]
    cfg = CircuitqConfig.model_validate({"drm_outputs": {"aircon": yaml.safe_load(dc.model_dump_json())}})
    relays, drm = resolve_channels(cfg)
    gpio = RecordingGPIO()
    hw = Hardware(relays, drm, check_wirings(cfg), gpio)
    hw.boot({"relay": {}, "drm": {"aircon": 0}})
    modes = sorted(hw.wirings["aircon"].modes)
    for a, b in permutations(modes, 2):
        hw.write("drm", "aircon", a)
        gpio.after_each_write.clear()
        hw.write("drm", "aircon", b)
        assert [physics(lv) for lv in gpio.after_each_write][-1] == b
        assert all(physics(lv) in (a, b) for lv in gpio.after_each_write), (a, b, gpio.after_each_write)
        assert hw.read_mode("aircon") == b


def test_every_shipped_config_passes_the_pin_and_wiring_checks():
    from pathlib import Path

    from circuitq.config import load_config
    root = Path(__file__).resolve().parents[2] / "config"
    for path in [root / "example.yaml", *sorted((root / "examples").glob("*.yaml"))]:
        cfg = load_config(path, env={})
        relays, drm = resolve_channels(cfg)
        assert len(relays) == len(cfg.relays) and len(drm) == len(cfg.drm_outputs), path
        check_wirings(cfg)


def test_drm_dwell_and_changes_budget_hold_commands_but_not_the_fallback_to_mode_0():
    from circuitq.clock import FakeClock
    from services.relay_agent.core import Now
    from services.relay_agent.fleet import Fleet

    clock = FakeClock()

    def now():
        return Now(clock.monotonic(), clock.now())

    cfg = CircuitqConfig.model_validate({"drm_outputs": {"aircon": {
        "relays": {"drm2": {"pin": 17}, "drm3": {"pin": 27}}, "min_dwell_s": 300,
        "max_changes_per_hour": 2, "max_lease_s": 1800}}})
    fleet = Fleet(cfg, now())
    aircon = fleet.cores["drm"]["aircon"]

    def cmd(mode, lease=1800):
        return fleet.command("drm", "aircon", json.dumps({"mode": mode, "lease_s": lease, "id": "x"}).encode(),
                             False, now())

    assert cmd(2) is None and aircon.pending.code == "hold:min_dwell"  # 300 s in mode 0 first
    clock.advance(300)
    assert fleet.tick(now())[0][1].new == 2
    clock.advance(10)
    assert cmd(3, lease=60) is None and aircon.pending.code == "hold:min_dwell"
    clock.advance(60)  # lease over while held: back to 0 at once (only releases drm2), dwell or not
    sw = fleet.tick(now())[0][1]
    assert (sw.old, sw.new, sw.cause) == (2, 0, "safe:lease_expired")
    clock.advance(300)
    assert cmd(3) is None and aircon.pending.code == "hold:max_changes"  # 2 changes in the hour
    assert aircon.pending.eligible_at > clock.monotonic() + 2000


def test_boot_after_a_restart_changes_the_left_driven_relays_in_a_safe_order():
    """Pins keep their levels when the agent exits; the next start sets each pin up at its boot
    level one at a time. From mode 3 (left by the last run) to boot_mode 2 that must be
    'energise drm2, then release drm3', never through mode 0, whatever the config order."""
    cfg = CircuitqConfig.model_validate({"drm_outputs": {"aircon": {
        "relays": {"drm3": {"pin": 27}, "drm2": {"pin": 17}}, "boot_mode": 2}}})  # drm3 listed first
    relays, drm = resolve_channels(cfg)
    gpio = RecordingGPIO()
    for ch in drm["aircon"].values():  # what the previous run left on the pins: mode 3
        gpio.channels[ch.bcm], gpio.levels[ch.bcm] = ch, ch.level(ch.name.endswith("drm3"))
    seen = []
    real_setup = gpio.setup_output

    def setup_output(ch, level):
        real_setup(ch, level)
        seen.append(dreadpi_contacts({c.name.split(".")[1]: c.is_on(gpio.levels[b])
                                      for b, c in gpio.channels.items()}))
    gpio.setup_output = setup_output
    hw = Hardware(relays, drm, check_wirings(cfg), gpio)
    hw.boot({"relay": {}, "drm": {"aircon": 2}}, {"relay": {}, "drm": {"aircon": 3}})
    assert seen[-1] == 2 and set(seen) <= {2, 3}, seen
