"""A real container engine for `make test-compose`, on a machine without Docker.

Podman (runc, cgroupfs) serves Docker's API on a socket of its own, and docker-compose 1.29
talks to it through DOCKER_HOST, as it would to dockerd. Docker Hub cannot be reached, so
the base images docker-compose.yml and the Dockerfile name are built here from Debian's
packages and tagged with those names: `debian:bookworm-slim` (mmdebstrap, minbase, as the
official image is made) and `eclipse-mosquitto:2` and `node:20-bookworm-slim` (the *.Containerfile beside this). The
project's files are used unchanged. Settings live in this folder and under ENGINE_DIR;
nothing in /etc is touched.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ENGINE_DIR = Path(os.environ.get("CIRCUITQ_ENGINE_DIR", "/var/lib/circuitq-test-engine"))
RUN_DIR = Path("/run") / ENGINE_DIR.name
SOCKET = RUN_DIR / "podman.sock"
DEBIAN = "docker.io/library/debian:bookworm-slim"
MOSQUITTO = "docker.io/library/eclipse-mosquitto:2"
NODE = "docker.io/library/node:20-bookworm-slim"
SYSTEMD = "localhost/circuitq-test/debian-systemd:12"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


def fuse_works() -> bool:
    """fuse-overlayfs stores layers as differences; vfs copies the whole tree for each (slow)."""
    return shutil.which("fuse-overlayfs") is not None and os.path.exists("/dev/fuse")


def storage_conf() -> Path:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    conf = RUN_DIR / "storage.conf"
    lines = ["[storage]",
             f'driver = "{"overlay" if fuse_works() else "vfs"}"',
             f'runroot = "{RUN_DIR / "storage"}"',
             f'graphroot = "{ENGINE_DIR / "storage"}"']
    if fuse_works():
        lines += ["[storage.options.overlay]", 'mount_program = "/usr/bin/fuse-overlayfs"']
    conf.write_text("\n".join(lines) + "\n")
    return conf


def env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(HERE / "containers.conf"),
            "CONTAINERS_STORAGE_CONF": str(storage_conf()), "DOCKER_HOST": f"unix://{SOCKET}",
            # docker-compose 1.29 would otherwise ask the API for BuildKit, which podman lacks.
            "DOCKER_BUILDKIT": "0", "COMPOSE_DOCKER_CLI_BUILD": "0"}


def podman(*args: str, timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(["podman", *args], env=env(), capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def has_image(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def api_answers() -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(SOCKET))
            s.sendall(b"GET /_ping HTTP/1.0\r\n\r\n")
            return b"200" in s.recv(100)
    except OSError:
        return False


def start_api(log: Path) -> subprocess.Popen | None:
    """`podman system service` on SOCKET; None when one already answers there."""
    if api_answers():
        return None
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    SOCKET.unlink(missing_ok=True)
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{SOCKET}"], env=env(),
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not api_answers():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"podman system service did not answer on {SOCKET}: {log.read_text()[-2000:]}")
        time.sleep(0.2)
    return proc


def build_debian(work: Path) -> None:
    """debian:bookworm-slim from Debian's archive. This machine reaches PyPI through a proxy
    whose CA only the host trusts: the stand-in gets the host's CA bundle for pip (a property
    of this network, not of the image the project builds)."""
    work.mkdir(parents=True, exist_ok=True)
    tar = work / "bookworm-slim.tar"
    subprocess.run(["mmdebstrap", "--quiet", "--variant=minbase",
                    "--customize-hook=rm -rf \"$1\"/usr/share/doc/* \"$1\"/usr/share/man/* "
                    "\"$1\"/usr/share/locale/* \"$1\"/var/lib/apt/lists/*",
                    "bookworm", str(tar)], check=True, capture_output=True, timeout=900)
    podman("import", "--change", 'CMD ["bash"]', str(tar), DEBIAN + "-plain")
    tar.unlink()
    ctx = work / "ca"
    ctx.mkdir(exist_ok=True)
    shutil.copy(HOST_CA, ctx / "host-ca.pem")
    (ctx / "Containerfile").write_text(
        f"FROM {DEBIAN}-plain\nCOPY host-ca.pem /etc/ssl/host-ca.pem\n"
        "RUN printf '[global]\\ncert = /etc/ssl/host-ca.pem\\n' > /etc/pip.conf\n")
    podman("build", "--quiet", "-t", DEBIAN, str(ctx))


def ensure_standins(work: Path) -> dict[str, float]:
    """Build whichever stand-in is missing; seconds each took."""
    took = {}
    if not has_image(DEBIAN):
        t = time.monotonic()
        build_debian(work)
        took["debian:bookworm-slim"] = time.monotonic() - t
    for image, containerfile in ((MOSQUITTO, "eclipse-mosquitto.Containerfile"), (NODE, "node.Containerfile")):
        if not has_image(image):
            t = time.monotonic()
            podman("build", "--quiet", "-t", image, "-f", str(HERE / containerfile), str(HERE))
            took[image.rsplit("/", 1)[1]] = time.monotonic() - t
    return took


def ensure_systemd_image() -> float:
    """The Debian 12 machine with systemd for the bare-metal installer's test; seconds taken."""
    if has_image(SYSTEMD):
        return 0.0
    t = time.monotonic()
    podman("build", "--quiet", "-t", SYSTEMD, "-f", str(HERE / "debian-systemd.Containerfile"), str(HERE))
    return time.monotonic() - t


def compose(project_dir: Path, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess:
    """docker-compose 1.29 on the project's own docker-compose.yml, against podman."""
    r = subprocess.run(["docker-compose", "--no-ansi", *args], cwd=project_dir, env=env(),
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"docker-compose {' '.join(args)}: exit {r.returncode}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
    return r
