"""One time format: payload times in the site's offset, never `Z`; clock times in texts get
their zone only where the clock time alone could be read two ways."""
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from circuitq import payloads as p
from circuitq import timefmt

NY = ZoneInfo("America/New_York")


def test_payload_times_use_the_site_offset_and_never_z():
    t = datetime(2026, 7, 1, 16, 0, tzinfo=timezone.utc)
    health = p.Health(state="ok", since=t, last_success=t)
    try:
        timefmt.set_site_timezone(None)
        assert '"since":"2026-07-01T16:00:00+00:00"' in health.model_dump_json()
        timefmt.set_site_timezone(NY)
        out = health.model_dump_json()
        assert '"since":"2026-07-01T12:00:00-04:00"' in out and '"last_success":"2026-07-01T12:00:00-04:00"' in out
        assert health.model_dump()["since"] == t  # Python values stay as they are
    finally:
        timefmt.set_site_timezone(None)


def test_clock_text_adds_the_zone_only_where_ambiguous():
    now = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert timefmt.clock_text(datetime(2026, 7, 1, 23, 0, tzinfo=timezone.utc), now, NY) == "19:00"
    assert timefmt.clock_text(datetime(2026, 7, 3, 23, 0, tzinfo=timezone.utc), now, NY) == "Fri 19:00"
    assert timefmt.clock_text(None, now, NY) == "further notice"
    # 1 November 2026, 01:30 happens twice in New York: say which
    before = datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc)  # 00:00 EDT
    assert timefmt.clock_text(datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc), before, NY) == "01:30 EDT"
    assert timefmt.clock_text(datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc), before, NY) == "01:30 EST"
    # across the change, a later time is in another offset than now: say so too
    assert timefmt.clock_text(datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc), before, NY) == "07:00 EST"
