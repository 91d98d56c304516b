"""notifier: alerts to Prowl and apprise (replaces CircuitQueueing's prowl.sh and
consumptionNotifications.py).

rules    - pure rule engine over the readings (threshold, duration, local window, weekdays)
metrics  - table: which topic gives which metric
policy   - pure de-dup / quiet hours / resolved policy
outbox   - per-channel FIFO with retry times; persisted by store (atomic JSON)
prowl    - Prowl's XML API (requests); channels - Prowl and apprise channels
service  - the I/O shell
"""
