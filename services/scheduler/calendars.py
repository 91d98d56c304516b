"""The scheduler's calendars are the shared ones (the tariff uses the same windows)."""
from circuitq.calendars import DAY, LOOKAHEAD_DAYS, Calendars  # noqa: F401
