"""Recorded readings for the replay: a CSV of minute rows or JSON lines of Curb payloads.

CSV: header `ts` (ISO 8601 with an offset, or epoch seconds), then optionally `production_w`,
then one column per circuitq circuit (watts). An empty cell means "not in this reading".
JSONL: one `circuitq/curb/reading` payload (payloads.CurbReading: `ts`, `circuits`,
`production_w`, `stale`) per line, as `mosquitto_sub -t circuitq/curb/reading` prints them
(`mosquitto_sub -v` output, topic first, is accepted too).

A bad row is reported with its line (and column) and skipped; the caller counts them.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

PRODUCTION = "production_w"


@dataclass(slots=True)
class Sample:
    ts: datetime  # aware
    circuits: dict[str, float]  # circuitq circuit name -> W
    production_w: float | None = None  # W; None: no solar figure in this row
    stale: bool = False  # the collector flagged the reading stale (JSONL only)
    line: int = 0  # line in the input file, for messages


class RowError(ValueError):
    """A row that cannot be replayed; str() names the file, line and column."""


def parse_ts(text: str, where: str) -> datetime:
    text = text.strip()
    try:
        return datetime.fromtimestamp(float(text), tz=timezone.utc)  # epoch seconds
    except ValueError:
        pass
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise RowError(f"{where}: {text!r} is neither ISO 8601 nor epoch seconds") from None
    if ts.tzinfo is None:
        raise RowError(f"{where}: {text!r} has no UTC offset (write e.g. 2026-07-14T13:00:00-04:00)")
    return ts


def _watts(value, where: str) -> float:
    try:
        w = float(value)
    except (TypeError, ValueError):
        raise RowError(f"{where}: {value!r} is not a number of watts") from None
    if not math.isfinite(w):
        raise RowError(f"{where}: {value!r} is not a finite number of watts")
    return w


def read_csv(path: Path) -> tuple[list[str], Iterator[Sample | RowError]]:
    """(circuit columns, rows); raises RowError if the header itself is unusable."""
    fh = open(path, newline="", encoding="utf-8")
    reader = csv.reader(fh)
    header = [h.strip() for h in next(reader, [])]
    if not header or header[0] != "ts":
        fh.close()
        raise RowError(f"{path}, line 1: the first column must be 'ts' (got {header[:1] or 'nothing'})")
    circuits = [h for h in header[1:] if h != PRODUCTION]

    def rows() -> Iterator[Sample | RowError]:
        with fh:
            for row in reader:
                line = reader.line_num
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    yield RowError(f"{path}, line {line}: {len(row)} cells, the header has {len(header)}")
                    continue
                try:
                    yield _csv_sample(path, line, header, row)
                except RowError as exc:
                    yield exc
    return circuits, rows()


def _csv_sample(path: Path, line: int, header: list[str], row: list[str]) -> Sample:
    ts = parse_ts(row[0], f"{path}, line {line}, column 'ts'")
    circuits: dict[str, float] = {}
    production = None
    for name, cell in zip(header[1:], row[1:]):
        if not cell.strip():
            continue
        w = _watts(cell, f"{path}, line {line}, column {name!r}")
        if name == PRODUCTION:
            production = w
        else:
            circuits[name] = w
    return Sample(ts, circuits, production, False, line)


def read_jsonl(path: Path) -> tuple[list[str], Iterator[Sample | RowError]]:
    def rows() -> Iterator[Sample | RowError]:
        with open(path, encoding="utf-8") as fh:
            for line, text in enumerate(fh, start=1):
                text = text.strip()
                if not text:
                    continue
                if not text.startswith("{") and " " in text:  # mosquitto_sub -v: "topic payload"
                    text = text.split(" ", 1)[1]
                try:
                    yield _jsonl_sample(path, line, text)
                except RowError as exc:
                    yield exc
    return [], rows()


def _jsonl_sample(path: Path, line: int, text: str) -> Sample:
    where = f"{path}, line {line}"
    try:
        p = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(p, dict) or "ts" not in p or not isinstance(p.get("circuits"), dict):
        raise RowError(f"{where}: not a circuitq/curb/reading payload (needs 'ts' and a 'circuits' object)")
    ts = parse_ts(str(p["ts"]), f"{where}, field 'ts'")
    circuits = {str(k): _watts(v, f"{where}, field 'circuits.{k}'") for k, v in p["circuits"].items()}
    prod = p.get(PRODUCTION)
    production = None if prod is None else _watts(prod, f"{where}, field '{PRODUCTION}'")
    return Sample(ts, circuits, production, bool(p.get("stale", False)), line)


def open_readings(path: str | Path) -> tuple[list[str], Iterator[Sample | RowError]]:
    """Pick the reader by extension: .csv or .jsonl (also .json / .ndjson)."""
    path = Path(path)
    if not path.is_file():
        raise RowError(f"{path}: no such file")
    ext = path.suffix.lower()
    if ext == ".csv":
        return read_csv(path)
    if ext in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path)
    raise RowError(f"{path}: unknown extension {ext!r}; use .csv or .jsonl")
