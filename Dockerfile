# One image for every circuitq service; docker-compose.yml picks the module to run.
#
# Builds the same way on amd64, arm64 (Pi 3/4/5, 64-bit OS) and armv7 (32-bit Raspberry Pi
# OS), with no compiler: Debian's own Python 3.11 and PyYAML (python3-yaml; PyPI has no
# armv7 wheel of it), and every other dependency as a wheel from PyPI (--only-binary).
# scripts/check_wheels.py lists the wheel each dependency gets on arm64 and armv7.
# Few steps on purpose: each one is a layer to store and, on a Pi's SD card, to write.
# The page's charting library (services/web) comes from npm, pinned by package-lock.json;
# only the files it serves reach the final image, not node.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY services/web/package.json services/web/package-lock.json services/web/vendor.mjs ./
RUN npm ci --no-audit --no-fund --loglevel=error && npm run --silent build

FROM debian:bookworm-slim

ENV PATH=/opt/circuitq/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# ca-certificates: TLS to a broker or a cloud API checked against the system's CAs.
# The venv sees Debian's PyYAML (--system-site-packages) and nothing else of the system's.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv python3-yaml ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && python3 -m venv --system-site-packages /opt/circuitq \
 && groupadd --system --gid 1000 circuitq \
 && useradd --system --uid 1000 --gid 1000 --home-dir /var/lib/circuitq --shell /usr/sbin/nologin circuitq \
 && mkdir -p /var/lib/circuitq \
 && chown circuitq:circuitq /var/lib/circuitq

# .dockerignore lets in only pyproject.toml, README.md, circuitq/, services/ and mosquitto/.
COPY . /src
COPY --from=web /web/static/vendor /src/services/web/static/vendor
# [pi]: lgpio on arm64 and armv7 (the relay agent's GPIO library, picked at run time).
RUN pip install --only-binary=:all: '/src[pi]' \
 && rm -rf /src

WORKDIR /var/lib/circuitq
USER circuitq
