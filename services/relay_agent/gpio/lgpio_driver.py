"""Raspberry Pi GPIO through lgpio: the kernel's GPIO character device (/dev/gpiochipN).

It works on every Pi, the Pi 5 included, and inside a container given only that device.
lgpio is imported here, inside the driver, so the service runs on machines without it.
"""
from __future__ import annotations

from .base import Channel, GPIODriver


class LgpioGPIO(GPIODriver):
    def __init__(self, chip: int):
        import lgpio

        self.lgpio = lgpio
        self.chip = chip
        try:
            self.handle = lgpio.gpiochip_open(chip)
        except lgpio.error as exc:
            # The one message a user needs: which device, and who must be allowed to open it.
            from circuitq.service import StartupError
            raise StartupError(
                f"cannot open /dev/gpiochip{chip} ({exc}): the relay agent needs that device "
                f"(docker compose: CIRCUITQ_GPIO_DEVICE in .env; systemd: the gpio group)") from None

    def setup_output(self, ch: Channel, level: int) -> None:
        # Claiming the line as an output sets its level in the same call: no glitch at start.
        self.lgpio.gpio_claim_output(self.handle, ch.bcm, 1 if level else 0)

    def write(self, ch: Channel, level: int) -> None:
        self.lgpio.gpio_write(self.handle, ch.bcm, 1 if level else 0)

    def read(self, ch: Channel) -> int:
        # Reading a claimed output returns the level it is driving.
        return 1 if self.lgpio.gpio_read(self.handle, ch.bcm) else 0

    def close(self) -> None:
        # Deliberately no gpio_free/gpiochip_close: see GPIODriver.close. The kernel releases
        # the lines when the process exits; the relay board's wiring decides what that means
        # (docs/wiring.md: a released relay leaves each load in its safe state).
        pass
