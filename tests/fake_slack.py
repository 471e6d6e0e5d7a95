"""A local fake of the Slack Web API: a stdlib HTTP server thread that answers like Slack and records calls.

The real `WebClient(base_url=fake.url)` talks to it. It keeps the messages posted per channel, so
`chat.update` and `conversations.history` (with metadata) behave like Slack's, and it can be told to
fail the next calls of a method (`fail("chat.postMessage", 429, headers={"Retry-After": "1"})`).
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

BOT_TOKEN = "xoxb-test-bot-token"
BOT_USER = "U0BOT"
TEAM = "T0TEAM"
REVIEW_CHANNEL = "C0REVIEW"


@dataclass
class Call:
    method: str
    args: dict
    token: str | None
    status: int = 200


@dataclass
class Failure:
    status: int
    times: int
    headers: dict = field(default_factory=dict)
    body: object = None


class FakeSlack:
    def __init__(self, token: str = BOT_TOKEN):
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[str, list[dict]] = {}
        self.user_groups: dict[str, list[str]] = {}
        self._failures: dict[str, list[Failure]] = {}
        self._lock = threading.Lock()
        self._last_ts = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-slack", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def start(self) -> "FakeSlack":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, method: str, status: int, times: int = 1, headers: dict | None = None, body=None) -> None:
        with self._lock:
            self._failures.setdefault(method, []).append(Failure(status, times, headers or {}, body))

    def calls_to(self, method: str, ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Poll until `count` successful calls to `method` arrived (listeners run in background threads)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            calls = self.calls_to(method, ok_only=True)
            if len(calls) >= count:
                return calls
            time.sleep(0.02)
        raise AssertionError(f"expected {count} call(s) to {method}, got {len(self.calls_to(method, True))}")

    # --- what Slack answers -------------------------------------------------------------------

    def answer(self, method: str, args: dict, token: str | None) -> tuple[int, dict, object]:
        with self._lock:
            failure = self._take_failure(method)
            status = failure.status if failure else 200
            self.calls.append(Call(method, args, token, status))
            if failure:
                body = failure.body if failure.body is not None else {"ok": False, "error": f"http_{status}"}
                return status, failure.headers, body
            if token != self.token:
                return 200, {}, {"ok": False, "error": "invalid_auth"}
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            return 200, {}, handler(args) if handler else {"ok": False, "error": "unknown_method"}

    def _take_failure(self, method: str) -> Failure | None:
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        return failure

    def _auth_test(self, args):
        return {"ok": True, "url": "https://test.slack.com/", "team": "Test", "user": "triage", "team_id": TEAM,
                "user_id": BOT_USER, "bot_id": "B0BOT", "is_enterprise_install": False}

    def _chat_postMessage(self, args):
        channel = args["channel"]
        message = {"type": "message", "ts": self._next_ts(), "text": args.get("text", ""),
                   "blocks": args.get("blocks", []), "bot_id": "B0BOT", "user": BOT_USER}
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _chat_update(self, args):
        for message in self.messages.get(args["channel"], []):
            if message["ts"] == args["ts"]:
                message.update(text=args.get("text", message["text"]), blocks=args.get("blocks", message["blocks"]))
                return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": message["text"]}
        return {"ok": False, "error": "message_not_found"}

    def _chat_postEphemeral(self, args):
        return {"ok": True, "message_ts": self._next_ts()}

    def _next_ts(self) -> str:
        """Slack's ts: the time in seconds with six decimals, unique in a channel."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def _usergroups_users_list(self, args):
        if args.get("usergroup") not in self.user_groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.user_groups[args["usergroup"]])}

    def _conversations_history(self, args):
        if args.get("channel") not in self.messages:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(args.get("oldest") or 0)
        found = [m for m in reversed(self.messages[args["channel"]]) if float(m["ts"]) >= oldest]
        if str(args.get("include_all_metadata", "")).lower() not in ("1", "true"):
            found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
        return {"ok": True, "messages": found, "has_more": False, "response_metadata": {"next_cursor": ""}}


def _handler(fake: FakeSlack):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._serve(b"")

        def do_POST(self):
            self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def _serve(self, raw: bytes):
            url = urlsplit(self.path)
            method = url.path.rsplit("/", 1)[-1]
            args = dict(parse_qsl(url.query))
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                args.update(json.loads(raw))
            elif raw:
                args.update(parse_qsl(raw.decode()))
            for key in ("blocks", "metadata"):
                if isinstance(args.get(key), str):
                    args[key] = json.loads(args[key])
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ") or args.get("token")
            status, headers, body = fake.answer(method, args, token)
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler
