"""Raspberry Pi GPIO through the RPi.GPIO API (on a Pi 5, the rpi-lgpio package provides
the same module). RPi.GPIO is imported here, inside the driver, so the service and the
simulator run on machines without it."""
from __future__ import annotations

from .base import Channel, GPIODriver


class RpiGPIO(GPIODriver):
    def __init__(self):
        import RPi.GPIO as GPIO  # noqa: N814 (the library's own spelling)

        self.GPIO = GPIO
        GPIO.setwarnings(False)  # pins left driven by a previous run are expected, not a fault
        GPIO.setmode(GPIO.BCM)  # once; BOARD pins in the config are converted by gpio/pins.py

    def setup_output(self, ch: Channel, level: int) -> None:
        # `initial` sets the output latch before the pin becomes an output: no glitch at start.
        self.GPIO.setup(ch.bcm, self.GPIO.OUT, initial=self.GPIO.HIGH if level else self.GPIO.LOW)

    def write(self, ch: Channel, level: int) -> None:
        self.GPIO.output(ch.bcm, self.GPIO.HIGH if level else self.GPIO.LOW)

    def read(self, ch: Channel) -> int:
        # Reading an output pin returns the level it is driving.
        return 1 if self.GPIO.input(ch.bcm) else 0

    def close(self) -> None:
        # Deliberately no GPIO.cleanup(): see GPIODriver.close. The levels stay as set.
        pass
