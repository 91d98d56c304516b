"""The web application: pages, login and the JSON API (Starlette; served by uvicorn).

Every route but the login page and its static files needs a login session or an API token.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from circuitq.clock import Clock

from .auth import Principal, Sessions, Throttle, Tokens, check_login
from .live import Hub

log = logging.getLogger("web")
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "circuitq_session"
KEEPALIVE_S = 15.0  # an SSE comment this often: proxies and phones keep the stream open
HEADERS = {  # the page loads nothing from elsewhere (the Pi may be offline), so allow nothing else
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


@dataclass
class WebContext:
    cfg: object
    users: dict[str, str]
    sessions: Sessions
    tokens: Tokens
    throttle: Throttle
    hub: Hub
    clock: Clock
    publish: object  # publish(topic, payload, by) -> None
    history_path: Path
    history: object = None
    history_lock: threading.Lock = field(default_factory=threading.Lock)
    tariff: object = None
    calendars: object = None


def ctx_of(request: Request) -> WebContext:
    return request.app.state.ctx


def principal(request: Request) -> Principal | None:
    ctx = ctx_of(request)
    now = ctx.clock.now()
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return ctx.tokens.check(auth[7:].strip(), now, ctx.users)
    return ctx.sessions.get(request.cookies.get(COOKIE), now, ctx.users)


def same_origin(request: Request) -> bool:
    """A browser sends Origin with every POST; it must be this page's own host."""
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host")


def require(request: Request, *, changes: bool = False, session_only: bool = False) -> Principal:
    p = principal(request)
    if p is None:
        raise HTTPException(401, "log in first, or send the header Authorization: Bearer <token>")
    if session_only and p.via != "session":
        raise HTTPException(403, "API tokens cannot do this; log in to the page")
    if changes and p.via == "session":
        sent = request.headers.get("x-csrf-token", "")
        if not same_origin(request) or not hmac.compare_digest(sent, p.csrf or ""):
            raise HTTPException(403, "missing or wrong CSRF token (reload the page)")
    return p


# ---------------------------------------------------------------- pages and login
async def index(request: Request) -> Response:
    p = principal(request)
    if p is None or p.via != "session":
        return RedirectResponse("/login", 303)
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})


async def login_page(request: Request) -> Response:
    return FileResponse(STATIC / "login.html", headers={"Cache-Control": "no-store"})


async def login(request: Request) -> Response:
    ctx = ctx_of(request)
    if not same_origin(request):
        return RedirectResponse("/login?error=origin", 303)
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    user = (form.get("user") or [""])[0].strip()
    password = (form.get("password") or [""])[0]
    keys = [f"user:{user.lower()}", f"addr:{request.client.host if request.client else '?'}"]
    mono = ctx.clock.monotonic()
    wait = ctx.throttle.wait_s(keys, mono)
    if wait > 0:
        return RedirectResponse(f"/login?wait={int(wait) + 1}", 303)
    ok = await asyncio.get_running_loop().run_in_executor(None, check_login, ctx.users, user, password)
    if not ok:
        ctx.throttle.failed(keys, mono)
        log.warning("failed login for %r from %s", user, keys[1][5:])
        return RedirectResponse("/login?error=1", 303)
    ctx.throttle.succeeded(keys)
    sid, _ = ctx.sessions.create(user, ctx.clock.now())
    log.info("%s logged in from %s", user, keys[1][5:])
    resp = RedirectResponse("/", 303)
    resp.set_cookie(COOKIE, sid, max_age=int(ctx.sessions.lifetime.total_seconds()), httponly=True,
                    samesite="strict", secure=ctx.cfg.web.cookies_secure, path="/")
    return resp


async def logout(request: Request) -> Response:
    p = require(request, changes=True, session_only=True)
    ctx_of(request).sessions.end(p.session_id)
    resp = JSONResponse({"ok": True})
    resp.delete_cookie(COOKIE, path="/")
    return resp


async def me(request: Request) -> Response:
    p = require(request)
    return JSONResponse({"user": p.user, "via": p.via, "csrf": p.csrf, "label": p.label},
                        headers={"Cache-Control": "no-store"})


async def events(request: Request) -> Response:
    """Server-sent events: every state change and event as JSON, a comment every 15 s."""
    p = require(request)
    ctx = ctx_of(request)
    q = ctx.hub.listen()

    async def stream():
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    ev = await asyncio.wait_for(q.get(), KEEPALIVE_S)
                except asyncio.TimeoutError:
                    if principal(request) is None:  # the session expired: the page logs in again
                        yield 'data: {"kind": "logout"}\n\n'
                        return
                    yield ": keep-alive\n\n"
                    continue
                yield f"data: {json.dumps(ev, separators=(',', ':'))}\n\n"
                if ev.get("kind") == "reload":
                    return
        finally:
            ctx.hub.unlisten(q)

    log.debug("%s listens to live updates", p.label)
    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def http_error(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/api/") or exc.status_code != 401:
        return JSONResponse({"error": exc.detail}, exc.status_code)
    return RedirectResponse("/login", 303)


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
            await send(message)
        await self.app(scope, receive, send_with)


def make_app(ctx: WebContext) -> Starlette:
    from . import api
    routes = [
        Route("/", index),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/api/me", me),
        Route("/api/events", events),
        *api.routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                    exception_handlers={HTTPException: http_error}, max_body_size=64 * 1024)
    app.state.ctx = ctx
    return app
