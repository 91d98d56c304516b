"""The event loop: one thread, timers that fire on time even under a flood of messages."""
from __future__ import annotations

from circuitq.clock import FakeClock
from circuitq.loop import EventLoop


def test_timers_fire_in_order_and_cancelled_ones_do_not():
    clock = FakeClock()
    loop = EventLoop(clock)
    seen = []
    loop.call_later(2, seen.append, "b")
    loop.call_later(1, seen.append, "a")
    loop.call_later(1.5, seen.append, "x").cancel()
    loop.run_pending()  # hands the timers to the loop thread
    clock.advance(3)
    loop.run_pending()
    assert seen == ["a", "b"]


def test_a_due_timer_runs_while_a_flood_is_still_queued():
    """A lease expiry must not wait behind thousands of queued messages."""
    clock = FakeClock()
    loop = EventLoop(clock)
    order = []
    loop.call_later(1, order.append, "lease expired")
    loop.run_pending()
    clock.advance(2)
    for i in range(10_000):
        loop.post(order.append, i)
    while len(order) < 10_001:
        loop.run_pending()
    assert order.index("lease expired") <= EventLoop.BATCH


def test_an_exception_in_one_event_is_reported_and_the_loop_goes_on():
    errors = []
    loop = EventLoop(FakeClock(), on_error=lambda where, exc: errors.append(str(exc)))
    seen = []
    loop.post(lambda: 1 / 0)
    loop.post(seen.append, "next")
    loop.run_pending()
    loop.run_pending()
    assert seen == ["next"] and errors == ["division by zero"]
