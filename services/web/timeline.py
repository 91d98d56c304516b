"""The next 24 h per load, for the page's timeline. Pure: config, now and payloads in.

From the planner's retained `circuitq/plan` when there is one: each planned run with its
reason code, kWh and cost, and the slot prices and solar forecast it planned with. A load the
plan does not cover (and every load while no plan exists) shows its calendars instead: when it
is blocked, forced, may run on solar, and the window of its daily runtime.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from circuitq.calendars import Calendars

SLOT = timedelta(minutes=15)


def _iso(dt: datetime, tz) -> str:
    return dt.astimezone(tz).isoformat()


def _parse(s: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(s) if s else None
    except ValueError:
        return None


def _clip(spans, a: datetime, b: datetime):
    return [(max(s, a), min(e, b)) for s, e in spans if e > a and s < b]


def _union(spans):
    out = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _complement(spans, a, b):
    out, cur = [], a
    for s, e in _union(spans):
        if s > cur:
            out.append((cur, s))
        cur = max(cur, e)
    if cur < b:
        out.append((cur, b))
    return out


def calendar_spans(cals: Calendars, names: list[str], a: datetime, b: datetime):
    day = a.astimezone(cals.tz).date()
    return _union([iv for n in names for iv in _clip(cals.spans(n, day), a, b)])


def _load_from_calendars(name: str, lc, cals: Calendars, a: datetime, b: datetime, tz) -> dict:
    spans, words = [], []

    def add(kind, ivs, label):
        for s, e in ivs:
            spans.append({"start": _iso(s, tz), "end": _iso(e, tz), "kind": kind, "label": label})

    if lc.block:
        add("blocked", calendar_spans(cals, lc.block, a, b), ", ".join(lc.block))
        words.append(f"blocked in {', '.join(lc.block)}")
    if lc.only:
        add("blocked", _complement(calendar_spans(cals, lc.only, a, b), a, b), "outside " + ", ".join(lc.only))
        words.append(f"only in {', '.join(lc.only)}")
    if lc.force:
        add("forced", calendar_spans(cals, lc.force, a, b), ", ".join(lc.force))
        words.append(f"forced on in {', '.join(lc.force)}")
    if lc.solar is not None:
        add("solar", calendar_spans(cals, [lc.solar.window], a, b), lc.solar.window)
        words.append(f"runs on solar above {lc.solar.threshold_w:.0f} W in {lc.solar.window}")
    if lc.runtime is not None:
        add("runtime", calendar_spans(cals, [lc.runtime.window], a, b), lc.runtime.window)
        words.append(f"needs {lc.runtime.hours:g} h a day in {lc.runtime.window}")
    if lc.hot_water is not None:
        hw = lc.hot_water
        words.append(f"the planner picks its hours (no plan yet); it always keeps {hw.reserve:.0%} of its "
                     f"{hw.tank_l:g} L tank hot")
    if lc.comfort is not None:
        c = lc.comfort
        band = (f"{c.min_f:g} and {c.max_f:g} °F" if c.min_f is not None and c.max_f is not None
                else f"{c.min_c:.1f} and {c.max_c:.1f} °C")
        words.append(f"shed only while the room stays between {band}")
    if lc.kind == "thermostat":
        words.append(f"shed while a bigger load runs, at most {lc.max_off_h:g} h at a time")
    if lc.kind == "drm":
        words.append("its DRM mode follows the solar production")
    if lc.max_off_h is not None and lc.kind == "relay":
        words.append(f"never off longer than {lc.max_off_h:g} h")
    return {"name": name, "kind": lc.kind, "description": lc.description, "source": "calendars",
            "text": "; ".join(words) or "no calendar: runs when the queue lets it", "spans": spans}


def _load_from_plan(name: str, lc, lp: dict, a: datetime, b: datetime, tz) -> dict:
    spans = []
    for run in lp.get("runs", []):
        s, e = _parse(run.get("start")), _parse(run.get("end"))
        if s is None or e is None or e <= a or s >= b:
            continue
        spans.append({"start": _iso(max(s, a), tz), "end": _iso(min(e, b), tz), "kind": "run",
                      "label": run.get("code", ""), "kwh": run.get("kwh"), "cost": run.get("cost")})
    return {"name": name, "kind": lc.kind if lc else "?", "description": lc.description if lc else "",
            "source": "plan", "text": lp.get("text", ""), "spans": spans}


def calendars_of(cfg) -> Calendars:
    return Calendars(cfg.scheduler.calendars, cfg.site.tz, cfg.site.country, cfg.site.subdivision)


def timeline(cfg, now: datetime, plan: dict | None = None, forecast: dict | None = None, tariff=None,
             hours: float = 24, cals: Calendars | None = None) -> dict:
    tz = cfg.site.tz
    a = now.replace(second=0, microsecond=0)
    a -= timedelta(minutes=a.minute % 15)
    b = a + timedelta(hours=hours)
    cals = cals or calendars_of(cfg)
    plan_loads = (plan or {}).get("loads") or {}
    loads = []
    for name, lc in cfg.loads.items():
        if lc.kind == "observed":
            continue
        if name in plan_loads:
            loads.append(_load_from_plan(name, lc, plan_loads[name], a, b, tz))
        else:
            loads.append(_load_from_calendars(name, lc, cals, a, b, tz))
    prices, solar = [], []
    slots = (plan or {}).get("slots") or []
    if slots:
        for s in slots:
            st = _parse(s.get("start"))
            if st is not None and a - timedelta(hours=1) <= st < b:
                prices.append({"start": _iso(st, tz), "import_per_kwh": s.get("import_per_kwh"),
                               "export_per_kwh": s.get("export_per_kwh")})
                solar.append({"start": _iso(st, tz), "w": s.get("solar_w")})
    else:
        if tariff is not None:
            t = a
            while t < b:
                p = tariff.price(t)
                prices.append({"start": _iso(t, tz), "import_per_kwh": p.import_per_kwh,
                               "export_per_kwh": p.export_per_kwh, "period": p.period})
                t += SLOT
        for pt in (forecast or {}).get("points") or []:
            st = _parse(pt.get("start"))
            if st is not None and a <= st < b:
                solar.append({"start": _iso(st, tz), "w": pt.get("w")})
    return {"start": _iso(a, tz), "end": _iso(b, tz), "now": _iso(now, tz),
            "source": "plan" if plan_loads else "calendars",
            "plan_made": (plan or {}).get("made"), "plan_cost": (plan or {}).get("cost"),
            "currency": (plan or {}).get("currency") or getattr(tariff, "currency", None),
            "loads": loads, "prices": prices, "solar": solar}
