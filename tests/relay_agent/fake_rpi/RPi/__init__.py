"""A fake RPi package for subprocess tests (put tests/relay_agent/fake_rpi on PYTHONPATH)."""
