"""Which Raspberry Pi this is, and which GPIO library and device its relay agent needs.

`choose_library` is the pure decision (board model + importable libraries -> library, or the
one-line message saying what to install); `open_pi_gpio` in `__init__` does the I/O.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# /proc/device-tree is hidden inside a container (Docker masks /sys/firmware); the kernel's
# /proc/cpuinfo "Model" line is not, so it is read second.
MODEL_FILES = (Path("/proc/device-tree/model"), Path("/proc/cpuinfo"))
# GPIO chip drivers meant for user space (the same list rpi-lgpio uses): RP1 on a Pi 5, the
# BCM2835/2711 controller on earlier boards.
USER_GPIO_DRIVERS = frozenset({"raspberrypi,rp1-gpio", "raspberrypi,bcm2835-gpio", "raspberrypi,bcm2711-gpio",
                               "brcm,bcm2835-gpio", "brcm,bcm2711-gpio"})


def read_model(files: tuple[Path, ...] = MODEL_FILES) -> str | None:
    """'Raspberry Pi 5 Model B Rev 1.0', or None when this is not a Raspberry Pi we can see."""
    for f in files:
        try:
            text = f.read_text(errors="replace")
        except OSError:
            continue
        if f.name == "cpuinfo":
            for line in text.splitlines():
                key, _, value = line.partition(":")
                if key.strip() == "Model" and value.strip():
                    return value.strip()
        elif text.strip("\0\n "):
            return text.strip("\0\n ")
    return None


def is_pi5(model: str | None) -> bool:
    return bool(model) and ("Raspberry Pi 5" in model or "Compute Module 5" in model or "Raspberry Pi 500" in model)


@dataclass(frozen=True)
class Choice:
    library: str   # "lgpio" or "RPi.GPIO"
    device: str    # what the process must be allowed to open, for messages


def choose_library(model: str | None, have_lgpio: bool, rpi_gpio_from: str | None) -> Choice | str:
    """The library to drive this board's pins with, or the one-line message of what to install.

    rpi_gpio_from: the distribution that provides the `RPi.GPIO` module ("RPi.GPIO",
    "rpi-lgpio", or None when it cannot be imported). lgpio talks to /dev/gpiochip*, which
    works on every Pi and in a container; the original RPi.GPIO maps /dev/gpiomem and cannot
    drive a Pi 5, where rpi-lgpio provides the same API on top of lgpio.
    """
    chip = "/dev/gpiochip0"
    if is_pi5(model):
        if rpi_gpio_from == "rpi-lgpio":
            return Choice("RPi.GPIO", chip)
        if have_lgpio:
            return Choice("lgpio", chip)
        if rpi_gpio_from:
            return (f"{model}: RPi.GPIO cannot drive a Raspberry Pi 5's pins; install rpi-lgpio "
                    f"instead (pip install rpi-lgpio, or apt install python3-rpi-lgpio)")
        return (f"{model}: no GPIO library; install rpi-lgpio "
                f"(pip install rpi-lgpio, or apt install python3-rpi-lgpio)")
    if rpi_gpio_from:
        return Choice("RPi.GPIO", "/dev/gpiomem" if rpi_gpio_from == "RPi.GPIO" else chip)
    if have_lgpio:
        return Choice("lgpio", chip)
    if model is None:
        return ("relay_agent.backend is rpi, but this machine is not a Raspberry Pi (no model in "
                "/proc/device-tree/model or /proc/cpuinfo) and has no GPIO library; use backend: sim here")
    return (f"{model}: no GPIO library; install lgpio (pip install lgpio, or apt install python3-lgpio) "
            f"or RPi.GPIO (apt install python3-rpi.gpio)")


def gpiochip_number(env: dict[str, str] | None = None, sys_gpio: Path = Path("/sys/bus/gpio/devices")) -> int:
    """$CIRCUITQ_GPIO_CHIP, else the chip whose driver is the Pi's user GPIO controller, else 0.

    On a Pi 5 with a kernel before 6.6.45 the header's pins are gpiochip4; since then gpiochip0,
    as on every earlier board. docker-compose.yml maps the host's chip to /dev/gpiochip0 and
    sets CIRCUITQ_GPIO_CHIP=0.
    """
    env = os.environ if env is None else env
    if env.get("CIRCUITQ_GPIO_CHIP"):
        return int(env["CIRCUITQ_GPIO_CHIP"])
    for dev in sorted(sys_gpio.glob("gpiochip*")):
        try:
            drivers = set((dev / "of_node" / "compatible").read_text().split("\0"))
        except OSError:
            continue
        if drivers & USER_GPIO_DRIVERS:
            return int(dev.name.removeprefix("gpiochip"))
    return 0
