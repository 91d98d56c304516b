#!/usr/bin/env bash
# Install what developing and testing circuitq needs on a fresh Debian machine: the Mosquitto
# broker and client tools (for the tests' own brokers), and a Python virtual environment in
# .venv with the project and its test tools. Not for the Pi in the panel: that is
# docker compose (docs/install-compose.md) or scripts/install-pi.sh (docs/install-bare.md).
# The container engine for `make test-compose` is scripts/setup-containers.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
# The page (services/web): its charting library comes from npm at build time, and its tests
# drive Debian's Chromium (never a browser downloaded by a test tool).
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  echo "setup: installing Debian packages: ${need[*]}"
  $sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}"
  # The tests start brokers of their own: Debian's system broker, enabled by the package,
  # would only hold port 1883 (which docker compose's broker needs on a Pi).
  if [[ " ${need[*]} " == *" mosquitto "* ]] && [ -d /run/systemd/system ]; then
    $sudo_ systemctl disable --now --quiet mosquitto || true
    echo "setup: Debian's mosquitto service is disabled (the tests run their own brokers)"
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# Reinstall only when the dependency list changed since the last successful install.
stamp=.venv/.circuitq-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
# The page's front-end libraries, copied from npm into services/web/static/vendor: the page
# loads nothing from a CDN (the Pi may be offline).
web=services/web
if [ ! -f $web/static/vendor/uPlot.iife.min.js ] || [ $web/package-lock.json -nt $web/static/vendor/uPlot.iife.min.js ]; then
  npm ci --prefix $web --no-audit --no-fund --loglevel=error
  npm run --prefix $web --silent build
fi
# A real Node-RED 4 for the Node-RED flow's test (tests/integrations/test_node_red.py); Node-RED 5
# needs Node 22, Debian's Node is 20.
nr=tests/integrations/nodered
if [ ! -f $nr/node_modules/.installed ] || [ $nr/package-lock.json -nt $nr/node_modules/.installed ]; then
  npm ci --prefix $nr --no-audit --no-fund --loglevel=error  # npm dates package files 1985: a stamp
  touch $nr/node_modules/.installed
fi
echo "setup: done (.venv ready; mosquitto $(/usr/sbin/mosquitto -h 2>/dev/null | head -1 | awk '{print $3}'))"
