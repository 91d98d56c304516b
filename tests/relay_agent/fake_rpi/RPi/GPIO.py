"""Fake RPi.GPIO for subprocess tests: appends every call as a JSON line to $FAKE_GPIO_LOG.
Only the calls the relay agent's rpi driver makes are implemented; anything else fails loudly."""
import json
import os

BCM, BOARD, OUT, IN, HIGH, LOW = 11, 10, 0, 1, 1, 0
_pins = {}
_mode = None


def _log(*call):
    with open(os.environ["FAKE_GPIO_LOG"], "a") as f:
        f.write(json.dumps(call) + "\n")


def setwarnings(flag):
    _log("setwarnings", flag)


def setmode(mode):
    global _mode
    _mode = mode
    _log("setmode", mode)


def setup(ch, direction, initial=None):
    if _mode is None:
        raise RuntimeError("setup before setmode")
    _pins[ch] = initial
    _log("setup", ch, direction, initial)


def output(ch, level):
    if ch not in _pins:
        raise RuntimeError(f"GPIO{ch} not set up")
    _pins[ch] = level
    _log("output", ch, level)


def input(ch):  # noqa: A001 (RPi.GPIO's own name)
    return _pins[ch]


def cleanup(*a):
    _log("cleanup", *a)
