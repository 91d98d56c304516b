#!/usr/bin/env bash
# circuitq without Docker, on Raspberry Pi OS or Debian 12 (docs/install-bare.md):
#
#   sudo bash scripts/install-pi.sh            install or upgrade, then start
#   sudo bash scripts/install-pi.sh --no-start install or upgrade only
#
# What it sets up, and where:
#   /opt/circuitq          a venv with circuitq and its wheels (Debian's python3-yaml)
#   /etc/circuitq          config.yaml (root:circuitq 640) and secrets.yaml (root, 600)
#   /var/lib/circuitq      state: overrides, tokens, wear counts, history (group circuitq)
#   users                  circuitq-<service> per service, group circuitq; only
#                          circuitq-relay_agent is in group gpio
#   mosquitto              Debian's broker with the shipped policy in /etc/mosquitto/conf.d/
#   systemd                circuitq@<service>.service, circuitq.target
# Running it again upgrades the code and keeps config, secrets and state.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)
START=1
[ "${1:-}" = "--no-start" ] && START=0

PREFIX=/opt/circuitq
ETC=/etc/circuitq
STATE=/var/lib/circuitq
SERVICES=(relay_agent scheduler curb_collector solar_collector ecobee_agent notifier recorder web)

say() { echo "install-pi: $*"; }
die() { echo "install-pi: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run it as root: sudo bash scripts/install-pi.sh"
command -v apt-get >/dev/null || die "this installer is for Raspberry Pi OS or Debian (apt-get not found)"
if command -v docker >/dev/null && docker ps --format '{{.Image}}' 2>/dev/null | grep -q mosquitto; then
  die "a broker container is running (docker compose?): stop it first (docker compose down); both want port 1883"
fi

say "Debian packages: python3, venv, PyYAML, mosquitto"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  python3 python3-venv python3-yaml mosquitto mosquitto-clients ca-certificates >/dev/null
python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "circuitq needs Python 3.11 or newer (Debian 12)"

say "users: circuitq-<service> in group circuitq; the relay agent's alone in group gpio"
getent group circuitq >/dev/null || groupadd --system circuitq
getent group gpio >/dev/null || groupadd --system gpio
for s in "${SERVICES[@]}"; do
  u="circuitq-$s"
  id "$u" >/dev/null 2>&1 || useradd --system --gid circuitq --no-create-home --home-dir "$STATE" \
    --shell /usr/sbin/nologin --comment "circuitq $s" "$u"
done
usermod -a -G gpio circuitq-relay_agent
install -D -m 644 deploy/debian/60-circuitq-gpio.rules /etc/udev/rules.d/60-circuitq-gpio.rules
command -v udevadm >/dev/null && { udevadm control --reload 2>/dev/null || true; udevadm trigger --subsystem-match=gpio 2>/dev/null || true; }

say "venv in $PREFIX (wheels only; Debian's PyYAML)"
[ -x "$PREFIX/bin/python" ] || python3 -m venv --system-site-packages "$PREFIX"
if [ ! -f services/web/static/vendor/uPlot.iife.min.js ]; then
  say "the page's charting library: npm ci in services/web (Debian's npm)"
  command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
  npm ci --prefix services/web --no-audit --no-fund --loglevel=error
  npm run --prefix services/web --silent build
fi
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
# Build from a copy: the checkout may belong to another user and stays untouched.
tar -C "$SRC" --exclude=.venv --exclude=.git --exclude=node_modules --exclude=__pycache__ \
  -cf - pyproject.toml README.md circuitq services sim mosquitto | tar -C "$build" -xf -
PIP_DISABLE_PIP_VERSION_CHECK=1 "$PREFIX/bin/pip" install --quiet --only-binary=:all: "$build[pi]"
rm -rf "$PREFIX/docs" && cp -r docs "$PREFIX/docs"

say "config in $ETC"
install -d -m 750 -o root -g circuitq "$ETC"
if [ ! -f "$ETC/config.yaml" ]; then
  install -m 640 -o root -g circuitq config/example.yaml "$ETC/config.yaml"
  NEW_CONFIG=1
fi
chgrp circuitq "$ETC/config.yaml"
if [ ! -f "$ETC/secrets.yaml" ]; then
  # The example with a random broker password for every account; API keys stay to fill in.
  umask 077
  "$PREFIX/bin/python" - config/secrets.example.yaml "$ETC/secrets.yaml" <<'PY'
import re, secrets, sys
text = open(sys.argv[1]).read()
text = re.sub(r"change-me-\d+", lambda m: secrets.token_urlsafe(18), text)
open(sys.argv[2], "w").write(text)
PY
  umask 022
fi
chown root:root "$ETC/secrets.yaml"
chmod 600 "$ETC/secrets.yaml"

say "state in $STATE"
install -d -m 2770 -o root -g circuitq "$STATE"

say "mosquitto: the shipped policy and this machine's paths in /etc/mosquitto/conf.d/"
install -d -m 755 /etc/mosquitto/circuitq
install -m 644 mosquitto/mosquitto.conf /etc/mosquitto/conf.d/circuitq.conf
install -m 644 deploy/debian/circuitq-local.conf /etc/mosquitto/conf.d/circuitq-local.conf
install -m 644 mosquitto/acl /etc/mosquitto/circuitq/acl
"$PREFIX/bin/python" -m mosquitto.make_passwd --secrets "$ETC/secrets.yaml" \
  --out /etc/mosquitto/circuitq/passwd --owner mosquitto:mosquitto

say "systemd units"
install -m 644 deploy/systemd/circuitq@.service deploy/systemd/circuitq.target /etc/systemd/system/
for dropin in deploy/systemd/circuitq@*.service.d/*.conf; do
  install -D -m 644 "$dropin" "/etc/systemd/system/${dropin#deploy/systemd/}"
done
systemctl daemon-reload
systemctl enable --quiet mosquitto circuitq.target
for s in "${SERVICES[@]}"; do systemctl enable --quiet "circuitq@$s.service"; done

if [ "$START" = 1 ]; then
  say "starting mosquitto"
  systemctl restart mosquitto
  if [ -z "${NEW_CONFIG:-}" ]; then
    # PartOf=circuitq.target: every service restarts with the target, on the new code.
    say "starting circuitq.target"
    systemctl restart circuitq.target
  fi
fi

ip=$(hostname -I 2>/dev/null | awk '{print $1}')
say "done. Phones and apps: host ${ip:-this Pi}, port 1883, user 'user', password: mqtt_users.user in $ETC/secrets.yaml"
[ -n "${NEW_CONFIG:-}" ] && say "next: describe your house in $ETC/config.yaml (relay_agent.backend: rpi, your pins), then: sudo systemctl restart circuitq.target"
say "status: systemctl status 'circuitq@*'   logs: journalctl -u 'circuitq@*' -f"
