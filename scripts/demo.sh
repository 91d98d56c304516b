#!/usr/bin/env bash
# The main job: the whole fleet on simulated hardware and simulated clouds (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m sim.demo "$@"
