"""The compose suite: `make test-compose` (CI runs it from .ci/run after the main suite).

It needs a container engine, which scripts/setup-containers.sh installs, and takes minutes
(image builds), so the main suite (`bash scripts/test.sh`) does not collect it; run it with
CIRCUITQ_COMPOSE=1, as `make test-compose` does.
"""
import os

collect_ignore_glob = [] if os.environ.get("CIRCUITQ_COMPOSE") == "1" else ["test_*.py"]
