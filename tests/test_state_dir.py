"""An unusable state_dir stops every service at start with one message naming the path and
the reason (exit 2, no traceback), before it touches anything."""
from __future__ import annotations

import pytest

SERVICES = ("relay_agent", "scheduler", "notifier", "curb_collector", "solar_collector", "ecobee_agent",
            "recorder", "web")


@pytest.mark.parametrize("service", SERVICES)
def test_state_dir_that_is_a_file_is_refused_at_start(service, config_factory, service_factory, tmp_path):
    not_a_dir = tmp_path / "state-is-a-file"
    not_a_dir.write_text("oops")
    proc = service_factory(service, config_factory({"state_dir": str(not_a_dir)}))
    assert proc.proc.wait(60) == 2
    log = proc.log()
    assert f"state_dir {not_a_dir}: not a directory" in log and "Traceback" not in log


def test_state_dir_under_a_file_is_refused_with_the_reason(config_factory, service_factory, tmp_path):
    (tmp_path / "file").write_text("x")
    bad = tmp_path / "file" / "state"
    proc = service_factory("relay_agent", config_factory({"state_dir": str(bad)}))
    assert proc.proc.wait(60) == 2
    log = proc.log()
    assert f"state_dir {bad}: cannot write there (Not a directory)" in log and "Traceback" not in log
