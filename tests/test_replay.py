"""sim.replay: two recorded July days replayed through the real scheduler core with
config/example.yaml (no broker). Tue 14 and Wed 15 July 2026, America/New_York."""
from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from circuitq.config import load_config
from circuitq.payloads import CurbReading
from services.scheduler.calendars import Calendars
from sim.replay import parse_when
from sim.replay_engine import run_replay
from sim.replay_input import open_readings
from sim.replay_summary import segments, summarize

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "examples" / "circuitqueueing.yaml"  # the rule engine (night, peak, shower)
NY = ZoneInfo("America/New_York")
START = datetime(2026, 7, 14, tzinfo=NY)  # a Tuesday: weekday windows (shower, peak) apply
COLUMNS = ["production_w", "kitchen", "heat_pump_north", "heat_pump_south", "dryer",
           "water_heater_north", "water_heater_south", "pool_pump"]
SUMMARY_KEYS = {"config", "data", "mode", "from", "to", "hours", "rows", "skipped_rows", "errors",
                "warnings", "loads", "observed", "drm", "alerts", "decisions", "elapsed_s",
                "decisions_per_s", "core_decisions_per_s"}
LOAD_KEYS = {"kind", "priority", "hours_permitted", "hours_running", "starts", "permits", "longest_off_h",
             "max_off_h", "max_off_ok", "blocked_h", "runtime"}


def house_minute(t: datetime, pool_w: float = 1500.0) -> dict[str, float]:
    """What the old controller's Curb recorded in minute t (W)."""
    h = t.hour + t.minute / 60  # local hours
    sun = max(0.0, math.sin(math.pi * (h - 6.5) / 13)) * 6500 if 6.5 < h < 19.5 else 0.0
    return {"production_w": round(sun), "kitchen": 5200 if 17.5 <= h < 18.5 else 300,  # evening peak
            "heat_pump_north": 3200 if 13 <= h < 17 else 50,  # afternoon run
            "heat_pump_south": 1800 if t.minute < 20 else 0, "dryer": 0,
            "water_heater_north": 4500 if t.minute < 30 else 0,  # tank thermostats cycling
            "water_heater_south": 4500 if 30 <= t.minute < 50 else 0, "pool_pump": pool_w}


def minutes(days: int = 2):
    return [START + timedelta(minutes=i) for i in range(days * 1440)]


def write_csv(path: Path, bad: dict[int, tuple[str, str]] | None = None, **kw) -> Path:
    """bad: {file line: (column, cell text)} to spoil single cells."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ts"] + COLUMNS)
        for line, t in enumerate(minutes(), start=2):
            row = {"ts": t.isoformat(), **house_minute(t, **kw)}
            if bad and line in bad:
                row[bad[line][0]] = bad[line][1]
            w.writerow([row["ts"]] + [row[c] for c in COLUMNS])
    return path


def replay(path: Path, config: Path = CONFIG, **kw):
    cfg = load_config(config, env={})
    _, rows = open_readings(path)
    res = run_replay(cfg, rows, **kw)
    return res, summarize(res, str(config), str(path))


@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    path = write_csv(tmp_path_factory.mktemp("replay") / "readings.csv")
    res, summary = replay(path)
    return path, res, summary


def test_water_heaters_stay_off_at_night_unless_forced(two_days):
    _, res, _ = two_days
    cals = Calendars(res.cfg.scheduler.calendars, NY, "US", "SC")
    night = [iv for d in range(-1, 3) for iv in cals.spans("night", (START + timedelta(days=d)).date())]
    for name in ("water_heater_north", "water_heater_south"):
        min_on = timedelta(seconds=res.cfg.loads[name].min_on_s)
        for a, b, permitted, _, code in segments(res.loads[name], res.end):
            for s, e in night:
                if not permitted or b <= s or a >= e:
                    continue
                ok = code.startswith("forced:") or (code == "holding:min_on" and min(b, e) <= s + min_on)
                assert ok, f"{name} permitted {a:%a %H:%M}-{b:%H:%M} inside night ({code})"
    shower: dict[int, float] = {}  # local day -> hours forced by the shower hour
    for a, b, p, _, code in segments(res.loads["water_heater_north"], res.end):
        if p and code == "forced:shower":
            assert a.astimezone(NY).hour == 5
            shower[a.astimezone(NY).day] = shower.get(a.astimezone(NY).day, 0) + (b - a).total_seconds() / 3600
    assert shower == {14: 1.0, 15: 1.0}  # weekday 05:00-06:00, both days


def test_water_heaters_never_off_longer_than_their_guarantee(two_days):
    _, _, summary = two_days
    for name in ("water_heater_north", "water_heater_south"):
        ld = summary["loads"][name]
        assert ld["max_off_h"] == 20
        assert 6 < ld["longest_off_h"] <= ld["max_off_h"] and ld["max_off_ok"] is True
        assert ld["blocked_h"]["blocked:night"] >= 20  # two nights of 12 h, minus the shower hours


def test_pool_pump_runtime_target_met_each_day(two_days):
    _, _, summary = two_days
    rt = summary["loads"]["pool_pump"]["runtime"]
    assert rt["target_h"] == 6 and rt["window"] == "pool_day"
    assert [d["date"] for d in rt["days"]] == ["2026-07-14", "2026-07-15"]
    for day in rt["days"]:
        assert day["met"] is True and day["hours"] >= 6, day


def test_runtime_shortfall_is_explained(tmp_path):
    # the old controller never let the pump run: the recording shows 0 W all along
    _, summary = replay(write_csv(tmp_path / "pump_off.csv", pool_w=0.0))
    days = summary["loads"]["pool_pump"]["runtime"]["days"]
    assert all(d["met"] is False and d["hours"] == 0 for d in days)
    assert "drawing nothing" in days[0]["why"] and "blocked:peak" in days[0]["why"]


def test_what_if_draws_only_while_permitted_unlike_as_recorded(two_days):
    path, _, what_if = two_days
    _, recorded = replay(path, as_recorded=True)
    assert recorded["mode"] == "as-recorded" and what_if["mode"] == "what-if"
    # recorded: the north tank heated half of every hour, night included (the old controller)
    assert recorded["loads"]["water_heater_north"]["hours_running"] > 20
    wh = what_if["loads"]["water_heater_north"]
    assert wh["hours_running"] <= wh["hours_permitted"] + 0.2  # + debounce after each stop


def test_summary_has_the_documented_keys(two_days):
    path, _, _ = two_days
    _, summary = replay(path, config=ROOT / "config" / "example.yaml")  # the planned house, with DRM
    assert set(summary) == SUMMARY_KEYS
    assert set(summary["loads"]) == {"heat_pump_south", "water_heater_north", "water_heater_south", "pool_pump"}
    for ld in summary["loads"].values():
        assert set(ld) == LOAD_KEYS
    assert set(summary["observed"]) == {"kitchen", "heat_pump_north", "dryer"}
    assert summary["observed"]["kitchen"]["starts"] == 2  # one evening peak a day
    modes = summary["drm"]["aircon"]["mode_h"]
    assert set(modes) <= {"DRM0", "DRM2", "DRM3", "start-up"} and modes["DRM0"] > 10  # sunny hours
    assert abs(sum(modes.values()) - summary["hours"]) < 0.01
    assert summary["rows"] == 2880 and summary["skipped_rows"] == 0 and summary["decisions"] > 2880


def test_bad_rows_are_named_and_skipped(tmp_path):
    path = write_csv(tmp_path / "bad.csv", bad={5: ("dryer", "abc"), 9: ("ts", "2026-07-14T00:07:00")})
    _, summary = replay(path)
    assert summary["skipped_rows"] == 2 and summary["rows"] == 2878
    assert summary["errors"][0] == f"{path}, line 5, column 'dryer': 'abc' is not a number of watts"
    assert "line 9, column 'ts'" in summary["errors"][1] and "no UTC offset" in summary["errors"][1]


def test_jsonl_of_curb_payloads_replays_like_the_csv(tmp_path, two_days):
    _, _, from_csv = two_days
    path = tmp_path / "readings.jsonl"
    with open(path, "w") as fh:
        for t in minutes():
            row = house_minute(t)
            prod = row.pop("production_w")
            total = sum(row.values())
            fh.write(CurbReading(ts=t, received=t + timedelta(seconds=3), stale=False, age_s=3,
                                 consumption_w=total, production_w=prod, net_w=total - prod,
                                 circuits=row).model_dump_json() + "\n")
        fh.write("{not json\n")
    _, summary = replay(path)
    assert summary["rows"] == 2880 and summary["skipped_rows"] == 1
    assert "line 2881: not JSON" in summary["errors"][0]
    assert summary["loads"] == from_csv["loads"] and summary["drm"] == from_csv["drm"]


def test_from_to_limit_the_replay(two_days):
    path, res, _ = two_days
    _, rows = open_readings(path)
    day2 = run_replay(res.cfg, rows, start=parse_when("2026-07-15", NY), end=parse_when("2026-07-15T12:00", NY))
    assert day2.start == datetime(2026, 7, 15, tzinfo=NY) and day2.rows == 720


def test_cli_prints_summary_writes_json_and_a_plot(tmp_path):
    data = write_csv(tmp_path / "readings.csv", bad={100: ("kitchen", "x")})
    out_json, out_png = tmp_path / "summary.json", tmp_path / "replay.png"
    proc = subprocess.run([sys.executable, "-m", "sim.replay", "--config", str(CONFIG), "--data", str(data),
                           "--activity", "--json", str(out_json), "--plot", str(out_png)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "line 100, column 'kitchen': 'x' is not a number" in proc.stderr
    assert "2026-07-14 05:00:00 water_heater_north: ON (forced:shower)" in proc.stdout  # local time
    assert "pool_pump runtime 2026-07-14" in proc.stdout and "decisions/s" in proc.stdout
    summary = json.loads(out_json.read_text())
    assert set(summary) == SUMMARY_KEYS and summary["skipped_rows"] == 1
    png = out_png.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert 30_000 < len(png) < 2_000_000  # a real multi-panel figure, not an empty canvas
