"""Does every Python dependency of the image install from a wheel on a Raspberry Pi?

    python -m scripts.check_wheels            (make check-wheels; CI runs it)

Resolves what `pip install '.[pi]'` installs (from PyPI, as the Dockerfile does), then asks
PyPI, for each package and version, for a wheel for CPython 3.11 on arm64 (64-bit Pi OS)
and armv7 (32-bit Pi OS), glibc up to 2.36 (Debian 12, the image's base), with
`pip download --only-binary=:all: --platform ...`. Prints one line per dependency with the
wheel found for each, and exits 1 if any is missing. Packages the image takes from Debian
instead (python3-yaml: PyPI has no armv7 wheel of PyYAML) are listed as such.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLIBC_MINOR = 36  # Debian 12 (bookworm): glibc 2.36
PLATFORMS = {"arm64": "aarch64", "armv7": "armv7l"}
FROM_DEBIAN = {"pyyaml": "python3-yaml (Debian 12, every architecture)"}
PIP = [sys.executable, "-m", "pip", "--isolated", "--disable-pip-version-check"]


def platform_tags(arch: str) -> list[str]:
    tags = [f"manylinux_2_{m}_{arch}" for m in range(17, GLIBC_MINOR + 1)] + [f"manylinux2014_{arch}", f"linux_{arch}"]
    return [a for t in tags for a in ("--platform", t)]


def resolve() -> list[tuple[str, str]]:
    """(name, version) of everything `pip install '.[pi]'` brings, the project itself excepted."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        subprocess.run(PIP + ["install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report),
                              f"{ROOT}[pi]"], check=True, cwd=tmp)
        installs = json.loads(report.read_text())["install"]
    found = {(i["metadata"]["name"].lower(), i["metadata"]["version"]) for i in installs}
    found = {nv for nv in found if nv[0] != "circuitq"}
    # [pi] is for arm only (a marker), so on the machine resolving it, add it by hand.
    if not any(n == "lgpio" for n, _ in found):
        found.add(("lgpio", latest("lgpio")))
    return sorted(found)


def latest(name: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(PIP + ["download", "--quiet", "--no-deps", "--only-binary=:all:", *platform_tags("aarch64"),
                                  "--python-version", "3.11", "--implementation", "cp", "-d", tmp, name],
                           capture_output=True, text=True)
        files = list(Path(tmp).iterdir())
        return files[0].name.split("-")[1] if r.returncode == 0 and files else "?"


def wheel_for(name: str, version: str, arch: str) -> str | None:
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run(PIP + ["download", "--quiet", "--no-deps", "--only-binary=:all:", *platform_tags(arch),
                                  "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
                                  "--abi", "abi3", "--abi", "none", "-d", tmp, f"{name}=={version}"],
                           capture_output=True, text=True)
        files = [p.name for p in Path(tmp).iterdir()]
        return files[0] if r.returncode == 0 and files else None


def main() -> int:
    deps = resolve()
    jobs = {(n, v, a): None for n, v in deps if n not in FROM_DEBIAN for a in PLATFORMS.values()}
    with ThreadPoolExecutor(8) as pool:
        for key, result in zip(jobs, pool.map(lambda k: wheel_for(*k), jobs)):
            jobs[key] = result
    missing = 0
    print(f"{'dependency':<24} {'version':<12} " + "  ".join(f"{p:<58}" for p in PLATFORMS))
    for n, v in deps:
        if n in FROM_DEBIAN:
            cells = [f"from Debian: {FROM_DEBIAN[n]}"] * len(PLATFORMS)
        else:
            cells = [jobs[(n, v, a)] or "NO WHEEL" for a in PLATFORMS.values()]
            missing += sum(c == "NO WHEEL" for c in cells)
        print(f"{n:<24} {v:<12} " + "  ".join(f"{c:<58}" for c in cells))
    print(f"{len(deps)} dependencies: " + ("every one has a wheel (or comes from Debian) on arm64 and armv7"
                                          if not missing else f"{missing} wheels missing"))
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
