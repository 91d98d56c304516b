"""Raspberry Pi 40-pin header: BOARD (physical) pin -> BCM GPIO number.

The rpi driver always runs RPi.GPIO in BCM mode (set once); BOARD numbers in the config are
converted with this table. Power, ground and the HAT ID EEPROM pins cannot drive a relay.
"""
from __future__ import annotations

BOARD_TO_BCM: dict[int, int] = {
    3: 2, 5: 3, 7: 4, 8: 14, 10: 15, 11: 17, 12: 18, 13: 27, 15: 22, 16: 23, 18: 24,
    19: 10, 21: 9, 22: 25, 23: 11, 24: 8, 26: 7, 29: 5, 31: 6, 32: 12, 33: 13, 35: 19,
    36: 16, 37: 26, 38: 20, 40: 21,
}
NOT_GPIO: dict[int, str] = {
    **{p: "3.3 V power" for p in (1, 17)},
    **{p: "5 V power" for p in (2, 4)},
    **{p: "ground" for p in (6, 9, 14, 20, 25, 30, 34, 39)},
    **{p: "reserved for the HAT ID EEPROM" for p in (27, 28)},
}
BCM_MAX = 27  # GPIO0..27 are on the header


class PinError(ValueError):
    pass


def to_bcm(pin: int, numbering: str) -> int:
    """BCM number of `pin` in `numbering` ('BCM' or 'BOARD'); PinError says why not."""
    if numbering == "BOARD":
        if pin in NOT_GPIO:
            raise PinError(f"BOARD pin {pin} is {NOT_GPIO[pin]}, not a GPIO")
        if pin not in BOARD_TO_BCM:
            raise PinError(f"BOARD pin {pin} is not on the 40-pin header")
        return BOARD_TO_BCM[pin]
    if not 0 <= pin <= BCM_MAX:
        raise PinError(f"BCM GPIO{pin} is not on the 40-pin header (GPIO0..{BCM_MAX})")
    return pin
