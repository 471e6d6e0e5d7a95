"""The Procfile's `web` process in tests: its command line, run by a shell as the platform runs it, on a free
port; and raw HTTP over a socket, for the framings that http.client refuses to send."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(role: str = "web") -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.startswith(f"{role}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"the Procfile has no {role} line")


OUR_PREFIXES = ("TRIAGE_", "ZENDESK_", "FRESHDESK_", "SLACK_", "DATABASE_URL", "REDIS_URL")


def serving(folder: Path, **settings: str):
    """A generator for a module fixture: the Procfile's `web` on a new SQLite store in `folder`, with none of
    this environment's triage settings and these `settings`; yields the port and checks a clean stop."""
    from store.database import Store

    url = f"sqlite:///{folder / 'triage.db'}"
    store = Store(url)
    store.upgrade()
    store.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(OUR_PREFIXES)}
    env.update(DATABASE_URL=url, TRIAGE_MODEL_DIR=str(folder / "models"),
               TRIAGE_ROUTING_FILE=str(REPO / "config" / "routing.toml"), HF_HUB_OFFLINE="1", PYTHONPATH=str(REPO),
               **settings)
    port = free_port()
    process = start_web(env, folder, port)
    try:
        yield port
    finally:
        assert stop_web(process) == 0


def start_web(env: dict, folder: Path, port: int) -> subprocess.Popen:
    """The Procfile's `web` line with PORT set (the `triage` script found next to this Python), its output in
    `folder`/web.log; returns when /healthz answers."""
    env = {**env, "PORT": str(port), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
           "PROMETHEUS_MULTIPROC_DIR": env.get("PROMETHEUS_MULTIPROC_DIR", str(folder / "metrics"))}
    log = folder / "web.log"
    with log.open("ab") as output:  # a file, not a pipe: a pipe nobody reads would block the server's logging
        process = subprocess.Popen(["sh", "-c", f"exec env {procfile_command()}"], cwd=folder, env=env,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while not _answers(port):
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the web process did not start"
        time.sleep(0.2)
    return process


def stop_web(process: subprocess.Popen) -> int:
    """SIGTERM, as the platform stops it; its exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def raw_exchange(port: int, head: bytes, body: bytes = b"", then: str = "wait", timeout: float = 10.0) -> tuple:
    """Send `head` + `body` as they are; `then` "wait" (keep sending nothing) or "eof" (close our side). Read
    until the server closes or `timeout`: ([(status, JSON answer or raw bytes), ...], whether it closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(head + body)
            if then == "eof":
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed while we were sending: read what it said
            pass
        received, closed = b"", False
        deadline = time.monotonic() + timeout
        while not closed and time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except TimeoutError:
                break
            except ConnectionResetError:
                data = b""
            closed = not data
            received += data
    return parse_responses(received), closed


def parse_responses(data: bytes) -> list:
    """HTTP/1.1 responses one after the other, each with a Content-Length (as ours have)."""
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", len(rest)))
        body, data = rest[:length], rest[length:]
        try:
            answers.append((status, json.loads(body)))
        except ValueError:
            answers.append((status, body))
    return answers


def request_head(path: str, headers: dict, method: str = "POST") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
