"""State files: private, atomic (a failed write keeps the old file), corrupt files set aside."""
from __future__ import annotations

import json
import logging
import os
import stat

import pytest

from circuitq.state import read_json, write_json_atomic


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_written_private_by_default_and_readable_back(tmp_path):
    path = tmp_path / "state" / "tokens.json"  # the directory is made as needed
    write_json_atomic(path, {"refresh_token": "r1", "expires_at": 1.5})
    assert mode(path) == 0o600
    assert read_json(path) == {"refresh_token": "r1", "expires_at": 1.5}
    write_json_atomic(path, {"refresh_token": "r2"})
    assert read_json(path) == {"refresh_token": "r2"} and mode(path) == 0o600
    assert os.listdir(path.parent) == ["tokens.json"]  # no temp file left behind


def test_public_files_are_readable_by_others(tmp_path):
    path = tmp_path / "holds.json"
    write_json_atomic(path, [1, 2], private=False)
    assert mode(path) == 0o644


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "notifier.json"
    write_json_atomic(path, {"outbox": ["pending"]})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"outbox": [object()]})  # fails half-way through the dump
    assert json.loads(path.read_text()) == {"outbox": ["pending"]}
    assert os.listdir(tmp_path) == ["notifier.json"]


def test_missing_file_gives_the_default(tmp_path):
    assert read_json(tmp_path / "none.json") is None
    assert read_json(tmp_path / "none.json", {}) == {}


def test_corrupt_file_is_set_aside_with_a_warning(tmp_path, caplog):
    path = tmp_path / "solar_enlighten.json"
    path.write_text('{"refresh_token": "r')  # a torn write from some other tool
    with caplog.at_level(logging.WARNING, logger="circuitq.state"):
        assert read_json(path, {}) == {}
    bad = tmp_path / "solar_enlighten.json.bad"
    assert not path.exists() and bad.read_text() == '{"refresh_token": "r'
    assert "solar_enlighten.json" in caplog.text and "kept as" in caplog.text
    write_json_atomic(path, {"refresh_token": "r3"})  # the next save starts a good file
    assert read_json(path) == {"refresh_token": "r3"}


@pytest.mark.parametrize("text", ["[]", "null", "42", '"x"'])
def test_a_file_of_the_wrong_shape_is_set_aside_not_crashed_on(tmp_path, text):
    path = tmp_path / "outbox.json"
    path.write_text(text)
    assert read_json(path, {"fresh": True}) == {"fresh": True}
    assert not path.exists() and (tmp_path / "outbox.json.bad").read_text() == text
