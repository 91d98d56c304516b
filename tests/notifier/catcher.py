"""A local HTTP endpoint for apprise's json:// (or form://) URLs: records what apprise posts."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class Catcher:
    def __init__(self):
        self.received: list[dict] = []
        self.status = 200  # answer with this (e.g. 500 to make apprise fail)
        self.lock = threading.Lock()
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ctype = self.headers.get("Content-Type", "")
                data = (json.loads(body) if "json" in ctype
                        else {k: v[0] for k, v in parse_qs(body.decode()).items()})
                with catcher.lock:
                    status = catcher.status
                    if status == 200:
                        catcher.received.append({"path": self.path, **data})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def json_url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def wait_for(self, pred, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for r in self.received:
                    if pred(r):
                        return r
            time.sleep(0.02)
        raise TimeoutError(f"apprise endpoint got nothing matching in {timeout}s: {self.received}")

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
