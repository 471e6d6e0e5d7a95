"""`triage web`: the web app under waitress (`cli.buffered_http`), so that no slow client holds a thread.

The Procfile's `web` and `triage serve`'s web process both run `run_web`. In each server process one I/O
thread reads every request whole (within `TRIAGE_REQUEST_READ_SECONDS`) before one of `TRIAGE_WEB_THREADS`
threads runs the app on it; `--processes N` runs N such processes on one port (more cores for the app).
Here too: the Prometheus multiprocess bookkeeping (files of processes that no longer run are removed at
start; this process's live gauges are dropped at exit), `TRIAGE_PRELOAD_MODEL`, and a graceful stop on
SIGTERM or SIGINT (no new connection; the requests in service are answered; work they handed off, such as a
Slack click's write-back, finishes within `CLOSE_WAIT_SECONDS`; then exit 0).
"""
from __future__ import annotations

import glob
import logging
import os
import resource
import signal
import socket
import threading
import time

from webhooks.background import CLOSE_WAIT_SECONDS

log = logging.getLogger(__name__)
STOP_SECONDS = 30.0  # at most this long to answer the requests in service when asked to stop
IDLE_SECONDS = 60  # a kept-alive connection that sends nothing this long is closed
MAX_CONNECTIONS = 4000  # open connections (each costs a file descriptor and a few KiB, never a thread)
MAX_HEADER_BYTES = 64 * 1024  # request line and headers; more: 431
# Body bytes past TRIAGE_MAX_BODY_BYTES that are still read (and dropped) so that the client, done sending,
# reads the app's 413 rather than a reset; a body declared or sent larger than that gets the server's 413.
DRAIN_BYTES = 16 * 1024 * 1024


def run_web(settings, host: str, port: int, processes: int = 1) -> int:
    """Serve until SIGTERM or SIGINT. `processes` > 1: that many server processes share the port
    (SO_REUSEPORT, the kernel spreads connections), each started again if it dies, stopped with this one."""
    from telemetry.json_logs import configure_logging

    configure_logging(settings=settings)
    _raise_open_files_limit()
    _clean_metrics_dir()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    if processes > 1:
        return _run_processes(settings, host, port, processes, stop)
    _serve_here(settings, host, port, stop, reuse_port=False)
    return 0


def _serve_here(settings, host: str, port: int, stop: threading.Event, reuse_port: bool) -> None:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" at every busy moment
    app = _build_app(settings)
    server = build_server(_trust_local_proxy_scheme(app), settings, host, port, reuse_port=reuse_port)
    log.info("web server listening", extra={"host": host, "port": server.effective_port,
                                            "threads": settings.triage_web_threads})
    try:
        serve_until(server, stop)
    finally:
        from api.predict_pool import stop_predict_pool

        stop_predict_pool(app)  # its child processes: this process would wait for them at exit
        app.extensions["triage"].close()  # work handed off after answering (a click, a route) finishes first
        _mark_dead(os.getpid())


def _serve_child(settings, host: str, port: int) -> None:
    """One of several server processes (started by `_run_processes` with the spawn method)."""
    from telemetry.json_logs import configure_logging

    configure_logging(settings=settings)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    _raise_open_files_limit()
    _serve_here(settings, host, port, stop, reuse_port=True)


def _run_processes(settings, host: str, port: int, processes: int, stop: threading.Event) -> int:
    import multiprocessing

    from cli.supervisor import Child, keep_running

    context = multiprocessing.get_context("spawn")  # nothing of this process crosses; each builds its app
    children = [Child(f"web-{n}", lambda: context.Process(target=_serve_child, args=(settings, host, port),
                                                          name="triage-web"), on_exit=_mark_dead)
                for n in range(processes)]
    # each answers what it has in service, lets handed-off work finish, then exits
    keep_running(children, stop, STOP_SECONDS + CLOSE_WAIT_SECONDS + 10)
    return 0


def _build_app(settings):
    from app import create_app
    from webhooks.runtime import build_runtime

    runtime = build_runtime(settings, workers="elsewhere")  # tickets run in the worker processes
    app = create_app(runtime=runtime)
    if settings.triage_preload_model:
        runtime.models.get()  # loads and warms the model (webhooks.model_holder)
    return app


def _trust_local_proxy_scheme(app):
    """A TLS proxy on this machine (nginx) says https in X-Forwarded-Proto; gunicorn trusted it from
    127.0.0.1 and ::1 by default, and so do we (the admin cookie is then Secure)."""
    def scheme_aware(environ, start_response):
        if environ.get("REMOTE_ADDR") in ("127.0.0.1", "::1") and \
                environ.get("HTTP_X_FORWARDED_PROTO", "").strip().lower() == "https":
            environ["wsgi.url_scheme"] = "https"
        return app(environ, start_response)

    return scheme_aware


def build_server(app, settings, host: str, port: int, reuse_port: bool = False):
    """The listening server (not yet serving); `reuse_port`: several processes share the port."""
    from waitress.adjustments import Adjustments

    from cli.buffered_http import DeadlineServer

    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    open_files = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    adjustments = Adjustments(
        threads=settings.triage_web_threads,
        connection_limit=max(100, min(MAX_CONNECTIONS, (open_files - 100) // 2)),  # a body may spill to a file
        asyncore_use_poll=True,  # select() fails past file descriptor 1024
        cleanup_interval=1,  # how often the read deadline is checked
        channel_timeout=IDLE_SECONDS,
        max_request_header_size=MAX_HEADER_BYTES,
        max_request_body_size=settings.triage_max_body_bytes + DRAIN_BYTES,
        clear_untrusted_proxy_headers=False,  # the app sees the headers as sent (as under gunicorn)
        ident="triage",
    )
    return DeadlineServer(app, map={}, _sock=sock, bind_socket=False, adj=adjustments,
                          sockinfo=(sock.family, sock.type, sock.proto, sock.getsockname()),
                          read_seconds=settings.triage_request_read_seconds,
                          stored_body_bytes=settings.triage_max_body_bytes + 1)


def serve_until(server, stop: threading.Event) -> None:
    """Serve until `stop` is set; then stop accepting, answer what is in service (at most STOP_SECONDS)
    and close every connection."""
    from waitress import wasyncore

    connections = server._map
    while not stop.is_set():
        wasyncore.loop(timeout=1.0, use_poll=True, map=connections, count=1)
    wasyncore.dispatcher.close(server)  # the listening socket only: the I/O loop keeps running
    deadline = time.monotonic() + STOP_SECONDS
    while server.busy() and time.monotonic() < deadline:
        wasyncore.loop(timeout=0.2, use_poll=True, map=connections, count=1)
    server.task_dispatcher.shutdown(timeout=5)
    wasyncore.close_all(connections, ignore_all=True)


def _raise_open_files_limit() -> None:
    """Each connection is a file descriptor: the soft limit (often 1024) goes up to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            log.warning("cannot raise the open files limit", extra={"soft": soft, "hard": hard})


def _clean_metrics_dir() -> None:
    """With PROMETHEUS_MULTIPROC_DIR: create it, and remove the files of processes that no longer run (their
    counters restart from zero, which Prometheus' rate() expects)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    for path in glob.glob(os.path.join(folder, "*.db")):
        pid = os.path.basename(path)[:-3].rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.remove(path)
            except FileNotFoundError:
                pass


def _mark_dead(pid: int) -> None:
    """Drop the live gauges of a web process that exits (PROMETHEUS_MULTIPROC_DIR only)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
