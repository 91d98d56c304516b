"""The JSON API: state, overrides, the next 24 h, history, alerts, health and API tokens.

Overrides go through the scheduler's own parser first (services/scheduler/overrides.py), so
the API refuses exactly what the scheduler would, with the same words, before anything is
published. Then the /set is published as it was sent, with the MQTT 5 user property `by`
(who made it), and the answer waits (web.confirm_s) for the scheduler's new state.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from circuitq import tariff as tariff_mod
from circuitq import topics as t
from services.recorder.export import activity_text, readings_csv
from services.recorder.query import History
from services.recorder.rollup import day_bounds
from services.scheduler.overrides import OverrideError, parse

from .app import ctx_of, require
from .health import health
from .timeline import calendars_of, timeline

TARGETS = {"load": (t.LOAD_SET, t.LOAD_STATE.key), "drm": (t.DRM_SET, t.DRM_STATE.key)}


def _config_view(cfg) -> dict:
    drm = {n: {"modes": sorted(cfg.drm_outputs[n].modes) if n in cfg.drm_outputs else [],
               "override_default_min": p.override_default_min, "override_max_min": p.override_max_min}
           for n, p in cfg.scheduler.drm.items()}
    loads = {n: {"kind": lc.kind, "description": lc.description, "priority": lc.priority,
                 "override_default_min": lc.override_default_min, "override_max_min": lc.override_max_min,
                 "circuit": lc.circuit or n}
             for n, lc in cfg.loads.items()}
    return {"site": {"name": cfg.site.name, "timezone": cfg.site.timezone}, "loads": loads, "drm": drm,
            "currency": cfg.tariff.currency if cfg.tariff else None}


async def state(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    snap = ctx.hub.snapshot()
    snap["config"] = _config_view(ctx.cfg)
    snap["now"] = ctx.clock.now().astimezone(ctx.cfg.site.tz).isoformat()
    return JSONResponse(snap, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- overrides
def _confirms(kind: str, name: str, set_topic: str, ov):
    def pred(ev: dict) -> bool:
        if ev["kind"] == t.ERROR.key:
            return ev["data"].get("topic") == set_topic
        if ev["kind"] != kind or ev["name"] != name or not isinstance(ev["data"], dict):
            return False
        d = ev["data"]
        if kind == t.DRM_STATE.key:
            return d.get("mode") == "auto" if ov.mode == "auto" else (
                d.get("mode") == "override" and d.get("drm_mode") == ov.mode)
        if d.get("mode") != ov.mode:
            return False
        if ov.mode == "auto" or ov.until is None or not d.get("until"):
            return True
        return abs((datetime.fromisoformat(d["until"]) - ov.until).total_seconds()) < 5
    return pred


async def load_override(request: Request) -> Response:
    return await override(request, "load")


async def drm_override(request: Request) -> Response:
    return await override(request, "drm")


async def override(request: Request, target: str) -> Response:
    name = request.path_params["name"]
    p = require(request, changes=True)
    ctx = ctx_of(request)
    entry, state_kind = TARGETS[target]
    body = (await request.body()).decode("utf-8", "replace")
    try:
        ov = parse(ctx.cfg, target, name, body, ctx.clock.now())
    except OverrideError as exc:
        status = 404 if str(exc).startswith("unknown") else 400
        return JSONResponse({"ok": False, "error": str(exc)}, status)
    topic = entry.topic(ctx.cfg.mqtt.base_topic, **{entry.placeholders[0]: name})
    ev = await ctx.hub.wait_for(_confirms(state_kind, name, topic, ov), ctx.cfg.web.confirm_s,
                                lambda: ctx.publish(topic, body.strip(), p.label))
    answer = {"ok": True, "target": target, "name": name, "mode": ov.mode, "by": p.label,
              "until": ov.until.astimezone(ctx.cfg.site.tz).isoformat() if ov.until else None}
    if ev is None:
        return JSONResponse({**answer, "confirmed": False,
                             "message": f"sent; the scheduler has not confirmed it within "
                                        f"{ctx.cfg.web.confirm_s:g} s (is it running?)"}, 202)
    if ev["kind"] == t.ERROR.key:
        return JSONResponse({"ok": False, "error": ev["data"].get("error", "refused")}, 409)
    return JSONResponse({**answer, "confirmed": True, "state": ev["data"]})


# ---------------------------------------------------------------- the next 24 h
async def next_24h(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    hub = ctx.hub
    if ctx.calendars is None:  # made once: the holiday calendars cost a few MiB to load
        ctx.tariff, ctx.calendars = tariff_mod.from_config(ctx.cfg), calendars_of(ctx.cfg)
    body = timeline(ctx.cfg, ctx.clock.now(), hub.get(t.PLAN.key), hub.get(t.SOLAR_FORECAST.key),
                    ctx.tariff, cals=ctx.calendars)
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- history (the recorder's file)
def _history(ctx) -> History:
    if ctx.history is None:
        try:
            h = History.open(ctx.history_path)
        except FileNotFoundError:
            raise HTTPException(503, f"no history yet: {ctx.history_path} does not exist (is the "
                                     f"recorder running?)") from None
        h.lock = ctx.history_lock
        h.con.execute("PRAGMA cache_size=-512")  # KiB: the page reads a day at a time
        ctx.history = h
    return ctx.history


def _day(request: Request) -> date:
    try:
        return date.fromisoformat(request.path_params["day"])
    except ValueError:
        raise HTTPException(400, "day: expected YYYY-MM-DD") from None


def _today(ctx) -> date:
    return ctx.clock.now().astimezone(ctx.cfg.site.tz).date()


async def history_index(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    h = _history(ctx)
    days = await run_in_threadpool(h.days, ctx.cfg.web.history_days)
    return JSONResponse({"today": _today(ctx).isoformat(), "days": days})


async def history_day(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    day = _day(request)
    h = _history(ctx)
    tz = ctx.cfg.site.tz
    start, end = day_bounds(day, tz)

    def read():
        got = h.day_summary(day.isoformat())
        series = h.series(start, end)
        msgs = h.messages(("activity", "alert", "load_set", "drm_set"), start, end, limit=300)
        return got, series, msgs
    got, series, msgs = await run_in_threadpool(read)
    if got is None:
        raise HTTPException(404, f"no recorded day {day.isoformat()}")
    summary, made, final = got
    series["t"] = [datetime.fromtimestamp(x, tz).isoformat() for x in series["t"]]
    return JSONResponse({"day": day.isoformat(), "summary": summary, "final": final,
                         "made": datetime.fromtimestamp(made, tz).isoformat(), "series": series,
                         "log": msgs}, headers={"Cache-Control": "no-store"})


async def history_csv(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    day = _day(request)
    text = await run_in_threadpool(readings_csv, _history(ctx), ctx.cfg, day)
    return PlainTextResponse(text, media_type="text/csv", headers={
        "Content-Disposition": f'attachment; filename="readings-{day.isoformat()}.csv"'})


async def history_activity(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    text = await run_in_threadpool(activity_text, _history(ctx), ctx.cfg, _day(request))
    return PlainTextResponse(text)


# ---------------------------------------------------------------- alerts and health
async def alerts(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    now = ctx.clock.now()
    try:
        h = _history(ctx)
        recent = await run_in_threadpool(h.messages, ("alert",), (now - timedelta(days=7)).timestamp(),
                                         now.timestamp() + 60, 200)
        items = [m["payload"] for m in recent if isinstance(m["payload"], dict)]
    except HTTPException:
        items = list(reversed(ctx.hub.snapshot()["events"].get("alert", [])))
    active: dict[str, dict] = {}
    for a in reversed(items):  # oldest first: a later resolution clears the key
        if a.get("resolved"):
            active.pop(a.get("key"), None)
        else:
            active[a.get("key")] = a
    return JSONResponse({"active": list(active.values()), "recent": items[:50]})


def _recorder_health(ctx, now: datetime) -> dict:
    try:
        h = _history(ctx)
    except HTTPException as exc:
        return {"state": "error", "text": exc.detail}
    st = h.stats()
    last = st.get("last_message")
    age = (now - datetime.fromisoformat(last)).total_seconds() if last else None
    size_mb = ctx.history_path.stat().st_size / 1e6 if ctx.history_path.exists() else 0
    text = (f"{st['messages']} messages, {size_mb:.1f} MB; last message "
            + (f"{age:.0f} s ago" if age is not None else "never"))
    return {"state": "ok" if age is not None and age < 600 else "stale", "text": text}


async def health_view(request: Request) -> Response:
    require(request)
    ctx = ctx_of(request)
    now = ctx.clock.now()
    rec = await run_in_threadpool(_recorder_health, ctx, now)
    return JSONResponse({"services": health(ctx.hub.snapshot()["state"], now, rec)},
                        headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------- API tokens (logged-in page only)
async def tokens_list(request: Request) -> Response:
    require(request, session_only=True)
    return JSONResponse({"tokens": ctx_of(request).tokens.listing()})


async def tokens_create(request: Request) -> Response:
    p = require(request, changes=True, session_only=True)
    ctx = ctx_of(request)
    try:
        name = str((await request.json()).get("name", "")).strip()
    except (ValueError, AttributeError):
        name = ""
    if not name or len(name) > 40:
        return JSONResponse({"ok": False, "error": "name: 1 to 40 characters, e.g. 'iPhone Shortcuts'"}, 400)
    token = await run_in_threadpool(ctx.tokens.create, name, p.user, ctx.clock.now())
    return JSONResponse({"ok": True, "token": token, "name": name,
                         "note": "shown once: copy it now (only its hash is kept)"})


async def tokens_revoke(request: Request) -> Response:
    require(request, changes=True, session_only=True)
    ok = await run_in_threadpool(ctx_of(request).tokens.revoke, request.path_params["tid"])
    return JSONResponse({"ok": ok}, 200 if ok else 404)


def routes() -> list[Route]:
    return [
        Route("/api/state", state),
        Route("/api/loads/{name:str}/override", load_override, methods=["POST"]),
        Route("/api/drm/{name:str}/override", drm_override, methods=["POST"]),
        Route("/api/timeline", next_24h),
        Route("/api/history", history_index),
        Route("/api/history/{day:str}", history_day),
        Route("/api/history/{day:str}/readings.csv", history_csv),
        Route("/api/history/{day:str}/activity.txt", history_activity),
        Route("/api/alerts", alerts),
        Route("/api/health", health_view),
        Route("/api/tokens", tokens_list, methods=["GET"]),
        Route("/api/tokens", tokens_create, methods=["POST"]),
        Route("/api/tokens/{tid:str}", tokens_revoke, methods=["DELETE"]),
    ]
