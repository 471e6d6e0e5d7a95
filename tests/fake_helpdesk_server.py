"""The shared half of the fake helpdesks: a stdlib HTTP server on port 0 in a thread that records every
request and lets a test script failures (status codes with Retry-After, delays) before the real handler.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    body: object
    headers: dict
    status: int = 0
    at: float = 0.0


@dataclass
class Scripted:
    status: int
    count: int
    method: str | None = None
    path_prefix: str = ""
    retry_after: str | None = None
    delay: float = 0.0
    body: object = None  # answer with this instead of {"error": ...}: JSON, or bytes sent as they are
    content_type: str | None = None


class FakeServer:
    """Subclasses implement `route(method, path, query, body) -> (status, json_body, headers)`."""

    def ensure_groups(self, group_ids: list[int]) -> None:
        """Groups an agent is added to exist: unknown ids become "Group <id>" (subclasses keep `groups` and
        `add_group(id, name)`)."""
        known = {group["id"] for group in self.groups}
        for group_id in group_ids:
            if group_id not in known:
                self.add_group(group_id, f"Group {group_id}")

    def __init__(self):
        self.requests: list[Recorded] = []
        self.lock = threading.RLock()
        self.scripted: list[Scripted] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                fake._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "FakeServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, status: int, count: int = 1, method: str | None = None, path_prefix: str = "",
             retry_after: str | None = None, delay: float = 0.0) -> None:
        """The next `count` matching requests answer `status` (with Retry-After) instead of the real thing."""
        with self.lock:
            self.scripted.append(Scripted(status, count, method, path_prefix, retry_after, delay))

    def answer(self, path_prefix: str, body: object, status: int = 200, count: int = 1, method: str | None = None,
               content_type: str | None = None) -> None:
        """The next `count` matching requests answer `body` (bytes: sent raw, e.g. a proxy's HTML page)."""
        with self.lock:
            self.scripted.append(Scripted(status, count, method, path_prefix, body=body, content_type=content_type))

    def calls(self, method: str | None = None, path_prefix: str = "", status: int | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if (method is None or r.method == method)
                    and r.path.startswith(path_prefix) and (status is None or r.status == status)]

    def authorized(self, headers) -> bool:  # subclasses check credentials
        return True

    def _scripted_for(self, method: str, path: str) -> Scripted | None:
        with self.lock:
            for item in self.scripted:
                if item.count > 0 and (item.method in (None, method)) and path.startswith(item.path_prefix):
                    item.count -= 1
                    return item
        return None

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        record = Recorded(handler.command, split.path, parse_qs(split.query), body, dict(handler.headers),
                          at=time.monotonic())
        with self.lock:
            self.requests.append(record)
        scripted = self._scripted_for(handler.command, split.path)
        headers: dict = {}
        if scripted is not None:
            if scripted.delay:
                time.sleep(scripted.delay)
            status, payload = scripted.status, {"error": f"scripted {scripted.status}"}
            if scripted.body is not None:
                payload = scripted.body
            if scripted.content_type:
                headers["Content-Type"] = scripted.content_type
            if scripted.retry_after is not None:
                headers["Retry-After"] = scripted.retry_after
        elif not self.authorized(handler.headers):
            status, payload = 401, {"error": "Couldn't authenticate you"}
        else:
            status, payload, headers = self.route(handler.command, split.path, record.query, body)
        record.status = status
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode() if payload is not None else b""
        handler.send_response(status)
        handler.send_header("Content-Type", headers.pop("Content-Type", "application/json; charset=utf-8"))
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def route(self, method, path, query, body):  # pragma: no cover - subclasses
        raise NotImplementedError


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@dataclass
class SlidingWindow:
    """Counts events in the last `period` seconds; remembers the most it ever saw at once."""

    period: float = 60.0
    times: list = field(default_factory=list)
    peak: int = 0

    def add(self, now: float) -> int:
        self.times = [t for t in self.times if t > now - self.period] + [now]
        self.peak = max(self.peak, len(self.times))
        return len(self.times)

    def count(self, now: float) -> int:
        return len([t for t in self.times if t > now - self.period])
