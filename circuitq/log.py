"""Logging set-up shared by every service: one line per event, service name first."""
from __future__ import annotations

import logging
import os
import sys


def setup_logging(service: str, level: str | None = None) -> logging.Logger:
    level = (level or os.environ.get("CIRCUITQ_LOG_LEVEL") or "INFO").upper()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # paho logs every reconnect attempt at DEBUG; keep it quiet unless asked.
    logging.getLogger("paho").setLevel(max(logging.INFO, root.level))
    return logging.getLogger(service)
