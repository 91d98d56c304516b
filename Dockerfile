# One image for every circuitq service; docker-compose.yml picks the module to run.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY circuitq ./circuitq
COPY services ./services
COPY sim ./sim
COPY mosquitto ./mosquitto
# RPi.GPIO only builds on a Pi; the relay agent imports it inside its rpi driver.
RUN pip install --no-cache-dir . \
 && if [ "$(uname -m)" = "aarch64" ] || [ "$(uname -m)" = "armv7l" ]; then pip install --no-cache-dir '.[pi]'; fi \
 && useradd --uid 1000 --create-home circuitq \
 && mkdir -p /var/lib/circuitq /run/circuitq && chown circuitq /var/lib/circuitq /run/circuitq
USER circuitq
ENV PYTHONUNBUFFERED=1
