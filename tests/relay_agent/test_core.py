"""The pure decision core: leases, min on/off, starts per hour, the safety-fallback rule,
wear that survives a restart. Time is a FakeClock; nothing sleeps."""
from __future__ import annotations

import pytest

from circuitq.clock import FakeClock
from circuitq.config.relays import RelayConfig
from services.relay_agent.core import CommandError, Now, OutputCore
from services.relay_agent.fleet import relay_limits


def now_of(clock: FakeClock) -> Now:
    return Now(clock.monotonic(), clock.now())


def relay(clock, **kw) -> OutputCore:
    rc = RelayConfig(pin=5, **{"min_on_s": 60, "min_off_s": 120, "max_starts_per_hour": 3,
                              "max_lease_s": 600, **kw})
    return OutputCore("pump", relay_limits(rc), rc.safe_state, rc.boot_state, now_of(clock))


@pytest.fixture
def clock():
    return FakeClock()


def test_lease_expiry_returns_to_safe_state_and_renewal_keeps_it(clock):
    r = relay(clock, min_on_s=0, min_off_s=0)
    assert r.command(now_of(clock), "off", 300, "a").new == "off"
    assert r.next_deadline() == pytest.approx(clock.monotonic() + 300)
    clock.advance(200)
    assert r.command(now_of(clock), "off", 300, "b") is None  # renewal: no switch, new lease
    clock.advance(200)
    assert r.tick(now_of(clock)) is None and r.value == "off"
    clock.advance(101)
    sw = r.tick(now_of(clock))
    assert (sw.new, sw.cause) == ("on", "safe:lease_expired")
    assert r.commanded is None and r.lease_until is None and r.cause == "safe:lease_expired"


def test_lease_longer_than_max_is_refused_and_changes_nothing(clock):
    r = relay(clock)
    with pytest.raises(CommandError) as err:
        r.command(now_of(clock), "off", 601, "a")
    assert err.value.field == "lease_s" and "600" in str(err.value)
    assert (r.value, r.commanded, r.lease_until, r.pending) == ("on", None, None, None)


def test_min_on_holds_off_command_then_applies(clock):
    r = relay(clock)  # booted on; min_on 60 s counts from boot
    clock.advance(10)
    assert r.command(now_of(clock), "off", 300, "a") is None
    assert r.pending.code == "hold:min_on" and r.pending.value == "off"
    assert r.next_deadline() == pytest.approx(clock.monotonic() + 50)
    assert r.pending.eligible_wall == now_of(clock).wall_at(r.pending.eligible_at)
    clock.advance(49.9)
    assert r.tick(now_of(clock)) is None
    clock.advance(0.2)
    assert r.tick(now_of(clock)).new == "off" and r.pending is None


def test_min_off_then_starts_per_hour_budget(clock):
    r = relay(clock, min_on_s=0, min_off_s=120, max_starts_per_hour=2)
    t0 = clock.monotonic()
    starts = []
    for _ in range(2):
        clock.advance(1)
        assert r.command(now_of(clock), "off", 600, "off").new == "off"
        assert r.command(now_of(clock), "on", 600, "on") is None
        assert r.pending.code == "hold:min_off"
        clock.advance(120)
        assert r.tick(now_of(clock)).new == "on"
        starts.append(clock.monotonic())
    clock.advance(1)
    r.command(now_of(clock), "off", 600, "off")
    clock.advance(200)  # min_off served, but two starts in the last hour
    assert r.command(now_of(clock), "on", 600, "on") is None
    assert r.pending.code == "hold:max_starts"
    assert r.pending.eligible_at == pytest.approx(starts[0] + 3600)
    clock.set(now_of(clock).wall_at(starts[0] + 3600.01))
    r.command(now_of(clock), "on", 600, "renew")
    assert r.value == "on" and r.switch_count == 6 and t0 < starts[0]


def test_off_fallback_is_immediate_but_on_fallback_respects_min_off(clock):
    """The safety-fallback rule: never on past a lease; never a start that breaks min_off."""
    off_safe = relay(clock, safe_state="off", boot_state="off", min_on_s=600, min_off_s=0)
    off_safe.command(now_of(clock), "on", 5, "a")
    clock.advance(5)
    sw = off_safe.tick(now_of(clock))  # min_on (600 s) not served: the lease still wins
    assert (sw.new, sw.cause) == ("off", "safe:lease_expired")

    on_safe = relay(clock, min_on_s=0, min_off_s=300)
    on_safe.command(now_of(clock), "off", 5, "b")
    clock.advance(5)
    assert on_safe.tick(now_of(clock)) is None
    assert on_safe.pending.code == "hold:min_off" and on_safe.pending.cause == "safe:lease_expired"
    clock.advance(295)
    assert on_safe.tick(now_of(clock)).cause == "safe:lease_expired"


def test_command_held_then_cancelled_by_fallback_to_current_level(clock):
    r = relay(clock, min_on_s=60)
    r.command(now_of(clock), "off", 30, "a")  # held by min_on
    assert r.pending is not None
    clock.advance(30)
    assert r.tick(now_of(clock)) is None  # lease over: desire is safe (on) = current level
    assert r.pending is None and r.value == "on" and r.switch_count == 0


def test_wear_survives_restart_and_keeps_min_off_and_start_window(clock):
    r = relay(clock, min_on_s=0, min_off_s=0, max_starts_per_hour=1, boot_state="off")
    r.command(now_of(clock), "on", 60, "a")
    r.command(now_of(clock), "off", 60, "b")
    wear = r.wear(now_of(clock))
    assert (wear.value, wear.switch_count, len(wear.events)) == ("off", 2, 1)
    clock.advance(10)  # restart 10 s later with stricter limits, boot off (same level as before)
    strict = relay(clock, min_on_s=0, min_off_s=300, max_starts_per_hour=1).limits
    r2 = OutputCore("pump", strict, "on", "off", now_of(clock), wear)
    assert r2.switch_count == 2 and r2.since == pytest.approx(clock.monotonic() - 10)
    assert r2.command(now_of(clock), "on", 60, "c") is None
    assert r2.pending.code == "hold:max_starts"  # binds longer than min_off's 290 s
    assert r2.pending.eligible_at == pytest.approx(clock.monotonic() - 10 + 3600)
    # A restart keeps the saved level: boot_state "on" does not start it past its limits;
    # the way back to the safe state ("on") waits for the starts budget like any start.
    r3 = OutputCore("pump", strict, "on", "on", now_of(clock), wear)
    assert (r3.value, r3.switch_count, len(r3.events)) == ("off", 2, 1)
    assert r3.pending.value == "on" and r3.pending.code == "hold:max_starts"


def test_restart_keeps_a_running_lease_and_ends_a_lapsed_one(clock):
    r = relay(clock, min_on_s=0, min_off_s=0, boot_state="off", safe_state="off")
    r.command(now_of(clock), "on", 60, "a")
    wear = r.wear(now_of(clock))
    wear.lease_trusted = True  # same boot of the Pi (store.load says so)
    clock.advance(20)
    kept = OutputCore("pump", r.limits, "off", "off", now_of(clock), wear)
    assert (kept.value, kept.cause, kept.commanded, kept.switch_count) == ("on", "restored", "on", 1)
    assert kept.lease_until == pytest.approx(clock.monotonic() + 40)
    clock.advance(41)  # the old lease lapsed while the agent was down: released at start
    lapsed = OutputCore("pump", r.limits, "off", "off", now_of(clock), wear)
    assert (lapsed.value, lapsed.cause, lapsed.switch_count) == ("off", "safe:restart", 2)
    wear.lease_trusted = False  # after a reboot the lease is not trusted: safe state at once
    assert OutputCore("pump", r.limits, "off", "off", now_of(clock), wear).value == "off"
    assert OutputCore("pump", r.limits, "off", "on", now_of(clock), None).value == "on"  # no record: boot


def test_published_level_is_the_read_back_and_a_mismatch_is_a_fault(clock):
    from services.relay_agent.state import relay_state
    r = relay(clock, min_on_s=0)
    r.command(now_of(clock), "off", 60, "a")
    ok = relay_state(r, "off")
    assert (ok.level, ok.commanded, ok.reason.code) == ("off", "off", "command")
    welded = relay_state(r, "on")  # the contact did not open: say what the pin says, and why
    assert (welded.level, welded.reason.code) == ("on", "fault:readback")


def test_saved_times_from_the_future_are_clamped_after_a_reboot_without_rtc(clock):
    from datetime import timedelta

    from services.relay_agent.core import Wear
    r = relay(clock, min_on_s=0, min_off_s=0, max_starts_per_hour=1)
    future = clock.now() + timedelta(days=2)  # saved before the reboot; clock now 2 days behind
    r2 = OutputCore("pump", r.limits, "on", "off", now_of(clock), Wear("off", 5, future, (future,)))
    assert r2.since == clock.monotonic() and list(r2.events) == [clock.monotonic()]
    r2.command(now_of(clock), "on", 60, "a")
    assert r2.pending.eligible_at == pytest.approx(clock.monotonic() + 3600)  # an hour, not 2 days


def test_fallback_with_nothing_to_undo_keeps_the_reason(clock):
    r = relay(clock)  # booted on = safe, never commanded
    assert r.fallback(now_of(clock), "safe:scheduler_offline") is None
    assert r.cause == "boot"  # a retained 'offline' at every reconnect does not churn the state
