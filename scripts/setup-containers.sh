#!/usr/bin/env bash
# The container engine for `make test-compose` on a Debian 12 machine without Docker:
# Podman (with runc, fuse-overlayfs and the CNI dnsname plugin), its Docker-compatible API, docker-compose 1.29 to
# drive it, and mmdebstrap to build the base images from Debian's packages
# (tests/docker/engine.py). Settings stay in tests/docker/; nothing in /etc is changed.
set -euo pipefail
need=()
for pair in podman:podman runc:runc fuse-overlayfs:fuse-overlayfs mmdebstrap:mmdebstrap \
            newuidmap:uidmap slirp4netns:slirp4netns docker-compose:docker-compose; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair##*:}")
done
# Compose service names (mosquitto:1883) resolve on Podman 4.3's CNI networks only through
# the dnsname plugin, a separate package that --no-install-recommends does not bring.
[ -x /usr/lib/cni/dnsname ] || need+=(golang-github-containernetworking-plugin-dnsname)
if [ ${#need[@]} -gt 0 ]; then
  sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  echo "setup-containers: installing Debian packages: ${need[*]}"
  $sudo_ apt-get update -qq
  # --no-install-recommends: docker-compose would otherwise pull in the whole Docker engine.
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
echo "setup-containers: done ($(podman --version), $(docker-compose version --short 2>/dev/null || echo docker-compose))"
