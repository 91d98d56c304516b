#!/usr/bin/env bash
# The container tests (`make test-compose`; CI runs it after scripts/test.sh): the shipped
# docker-compose.yml, Dockerfile and broker config under a real engine, the bare-metal
# installer under systemd, and the wheel check for arm64 and armv7. Root is needed (the
# engine, the installer's machine). CIRCUITQ_FRESH_ENGINE=1 (CI) starts from empty image
# storage, so nothing left by an earlier run hides a build problem.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/setup-containers.sh
if [ "${CIRCUITQ_FRESH_ENGINE:-0}" = 1 ]; then
  CIRCUITQ_ENGINE_DIR=$(mktemp -d /var/lib/circuitq-test-engine.XXXXXX)
  export CIRCUITQ_ENGINE_DIR
  trap 'rm -rf "$CIRCUITQ_ENGINE_DIR" "/run/$(basename "$CIRCUITQ_ENGINE_DIR")" 2>/dev/null || true' EXIT
  echo "test-compose: fresh image storage in $CIRCUITQ_ENGINE_DIR"
fi
start=$(date +%s)
CIRCUITQ_COMPOSE=1 .venv/bin/python -m pytest -q -s -p no:cacheprovider tests/docker "$@"
echo "test-compose: $(( $(date +%s) - start )) s"
