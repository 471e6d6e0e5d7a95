"""`triage serve | web | worker | clock | db upgrade | events failed | events retry`.

`serve`, `web`, `worker` and `clock` run the start-up checks (`cli.preflight`) before they start anything; the
other commands check the settings. Either way every problem is listed at once and the exit code is 2.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading


def register(subcommands) -> None:
    serve = subcommands.add_parser("serve", help="web, worker pool and clock in one process (embedded defaults)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    serve.set_defaults(handler=_serve)

    web = subcommands.add_parser("web", help="the web server alone (the Procfile's `web`); no slow client holds it")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    web.add_argument("--processes", type=int, default=1, help="server processes sharing the port (default 1)")
    web.set_defaults(handler=_web)

    subcommands.add_parser("worker", help="process deliveries (RQ with REDIS_URL, else the store's inbox)") \
        .set_defaults(handler=_worker)
    subcommands.add_parser("clock", help="run the scheduled jobs (exactly one such process)").set_defaults(handler=_clock)

    db = subcommands.add_parser("db", help="database schema").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=_db_upgrade)

    events = subcommands.add_parser("events", help="deliveries").add_subparsers(dest="events_command", required=True)
    failed = events.add_parser("failed", help="list dead-lettered deliveries")
    failed.add_argument("--json", action="store_true")
    failed.set_defaults(handler=_events_failed)
    retry = events.add_parser("retry", help="requeue dead-lettered deliveries")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=int)
    which.add_argument("--all", action="store_true")
    retry.set_defaults(handler=_events_retry)


def _settings(args: argparse.Namespace | None = None):
    """The settings, or every bad one listed and exit 2 (other command groups call it without `args`)."""
    from cli.preflight import settings_or_exit

    return settings_or_exit(args)


def _runtime(args: argparse.Namespace, workers: str = "here"):
    from cli.preflight import preflight_or_exit

    settings = preflight_or_exit(args)  # every problem at once, before anything starts
    from telemetry.json_logs import configure_logging
    from webhooks.runtime import build_runtime

    configure_logging(settings=settings)  # JSON lines; the settings' secrets are redacted
    return build_runtime(settings, workers=workers)


def _serve(args: argparse.Namespace) -> int:
    from cli.preflight import Problem, exit_with, first_line, preflight_or_exit

    # the embedded defaults: the worker process drains the durable inbox; all is checked before anything forks
    _say_redis_unused()
    settings = preflight_or_exit(args, {"redis_url": None}, upgrade=True)
    from telemetry.json_logs import configure_logging
    from cli.server import serve
    from store.database import Store

    configure_logging(settings=settings)
    store = Store(settings.database_url)
    try:
        store.upgrade()
    except Exception as exc:
        exit_with(args, "cannot start", [Problem(f"DATABASE_URL: the schema migration failed: {first_line(exc)}", exc)])
    finally:
        store.dispose()
    return serve(settings, args.host, args.port)


def _web(args: argparse.Namespace) -> int:
    from cli.preflight import preflight_or_exit
    from cli.web_server import run_web

    if args.processes < 1:
        raise SystemExit("triage: --processes must be 1 or more")
    return run_web(preflight_or_exit(args), args.host, args.port, args.processes)


def _say_redis_unused() -> None:
    """`triage serve` is the embedded single-machine setup: its worker process drains the store's inbox, so
    REDIS_URL is not used (nor pinged). Said at start, so that nobody believes RQ is in play."""
    from dotenv import dotenv_values

    if os.environ.get("REDIS_URL") or dotenv_values(".env").get("REDIS_URL"):
        print("triage: note: REDIS_URL is set but `triage serve` does not use it: serve runs the embedded "
              "setup, whose worker process drains the store's inbox; to process with RQ on Redis run the "
              "Procfile's processes instead (`triage web`, `triage worker`, `triage clock`)", file=sys.stderr)


def _worker(args: argparse.Namespace) -> int:
    from webhooks.worker import run_worker

    runtime = _runtime(args, workers="isolated")  # each ticket in a child process under the time limit
    if runtime.settings.triage_metrics_port:  # a worker on its own machine: Prometheus scrapes it directly
        from prometheus_client import start_http_server

        from telemetry.exposition import process_registry

        start_http_server(runtime.settings.triage_metrics_port, registry=process_registry())
    return run_worker(runtime)


def _clock(args: argparse.Namespace) -> int:
    from webhooks.clock import build_scheduler

    runtime = _runtime(args)
    scheduler = build_scheduler(runtime)
    scheduler.start()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    scheduler.shutdown()
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from store.database import Store

    store = Store(_settings(args).database_url)
    store.upgrade()
    print("database is at the latest schema")
    return 0


def _events_failed(args: argparse.Namespace) -> int:
    from store import inbox
    from store.database import Store

    store = Store(_settings(args).database_url)
    with store.session() as session:
        rows = [{"id": d.id, "helpdesk": d.helpdesk, "key": d.idempotency_key, "step": d.failed_step,
                 "attempts": d.attempts, "error": d.last_error, "received_at": d.received_at.isoformat()}
                for d in inbox.failed(session)]
    if args.json:
        print(json.dumps(rows))
    elif not rows:
        print("no failed deliveries")
    else:
        for row in rows:
            print(f"{row['id']:>8}  {row['helpdesk']:<9} {row['key']:<40} step={row['step']} "
                  f"attempts={row['attempts']}  {row['error']}")
    return 0


def _events_retry(args: argparse.Namespace) -> int:
    from cli.audit_commands import cli_operator
    from store import audit, inbox
    from store.models import Delivery
    from store.database import Store
    from webhooks.queue import RedisQueue

    settings = _settings(args)
    store = Store(settings.database_url)
    with store.session() as session:
        requeued = inbox.retry(session, None if args.all else [args.id])
        for delivery_id in requeued:  # in the same transaction as the retry
            audit.record(session, cli_operator(), audit.RETRY, f"delivery:{delivery_id}", {"state": "failed"},
                         {"state": session.get(Delivery, delivery_id).state}, source=audit.CLI)
    if settings.redis_url:
        queue = RedisQueue(settings.redis_url)
        for delivery_id in requeued:
            queue.enqueue(delivery_id)
    if not requeued:
        print("nothing to retry" if args.all else f"delivery {args.id} is not a failed delivery", file=sys.stderr)
        return 0 if args.all else 1
    print(f"requeued {len(requeued)} deliveries: {' '.join(map(str, requeued))}")
    return 0
