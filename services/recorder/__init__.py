"""recorder: every reading, state, command, override, alert and activity line into SQLite,
from a persistent MQTT session, with daily roll-ups and a CSV export (docs/recorder.md)."""
