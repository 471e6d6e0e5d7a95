"""The webhook acknowledgement in-process: SQL statements and milliseconds per request, and where they go.

    python bench/ack_profile.py [--db postgresql|sqlite] [--requests 2000] [--duplicates 0.1] [--profile 25]

Flask's test client (no HTTP server, no network) sends signed Zendesk deliveries of new tickets (and a
share of redeliveries of tickets already sent) to one app on a scratch database; a SQLAlchemy listener
counts the statements each request runs (BEGIN and COMMIT included, even where autocommit never sends them),
and on PostgreSQL libpq's protocol trace counts the round trips themselves (pre-pings included) over 100
more requests. `--profile N` prints cProfile's top N functions by cumulative time over the timed requests.
The queue is the inbox queue, with no worker running.
The app logs as in production (one JSON line per delivery on stderr): send stderr to /dev/null.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from _harness import REPO, SECRET, delivery, scratch_database

sys.path.insert(0, str(REPO))


def build_app(database_url: str, workdir: Path):
    from app import create_app
    from store.database import Store

    url = database_url.replace("postgresql://", "postgresql+psycopg://", 1)
    store = Store(url)
    store.upgrade()
    store.dispose()
    settings = {"database_url": url, "zendesk_webhook_secret": SECRET, "triage_model_dir": workdir / "models",
                "triage_routing_file": REPO / "config" / "routing.toml",
                "triage_starter_model": REPO / "models" / "starter"}
    return create_app(settings, env_file=None)


def round_trips(engine, client, first: int, count: int = 100) -> dict:
    """Messages to the server per request, from libpq's own protocol trace (what the SQLAlchemy counts
    cannot show: a pre-ping, or a BEGIN and COMMIT that autocommit never sends), over `count` more
    requests, new and duplicate alternately: {"new": n, "duplicate": n}."""
    trace = tempfile.NamedTemporaryFile("w+", suffix=".trace")
    tracing = {"on": False}

    def on_checkout(dbapi_connection, _record, _proxy):
        if tracing["on"]:
            dbapi_connection.pgconn.trace(trace.fileno())

    def on_checkin(dbapi_connection, _record):
        if dbapi_connection is not None:
            dbapi_connection.pgconn.untrace()

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "checkin", on_checkin)
    counts: dict[str, list[int]] = {"new": [], "duplicate": []}
    for n in range(count):
        kind = "duplicate" if n % 2 else "new"
        body, headers = delivery(2_000_000 + first + n - (1 if kind == "duplicate" else 0), "profile")
        trace.seek(0)
        trace.truncate()
        tracing["on"] = True
        assert client.post("/webhooks/zendesk", data=body, headers=headers).status_code == 202
        tracing["on"] = False
        trace.seek(0)
        counts[kind].append(sum(1 for line in trace if "\tReadyForQuery" in line))
    return {kind: statistics.mean(values) for kind, values in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share of requests that redeliver a ticket")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N functions")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="triage-ack-profile-"))
    app = build_app(scratch_database(args.db, workdir), workdir)
    engine = app.extensions["triage"].store.engine
    statements = {"n": 0, "last": []}

    def count(kind: str):
        def listener(*listened, **_kwargs):
            statements["n"] += 1
            statements["last"].append(listened[2].split("\n")[0][:120] if kind == "execute" else kind.upper())
        return listener

    event.listen(engine, "before_cursor_execute", count("execute"))
    for kind in ("begin", "commit", "rollback"):  # round trips too, but not cursor executes
        event.listen(engine, kind, count(kind))
    client = app.test_client()
    every = max(1, round(1 / args.duplicates)) if args.duplicates > 0 else 0
    plan = [(n, every and n % every == every - 1) for n in range(args.requests + 200)]
    requests = []
    for n, duplicate in plan:
        ticket = n - 1 if duplicate else n
        body, headers = delivery(1_000_000 + ticket, "profile")
        requests.append((body, headers, duplicate))
    for body, headers, _ in requests[:200]:  # warm-up: connections, caches, the first ticket rows
        assert client.post("/webhooks/zendesk", data=body, headers=headers).status_code == 202
    measured = requests[200:]
    per_kind: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
    profiler = cProfile.Profile() if args.profile else None
    shown = {}
    for body, headers, duplicate in measured:
        before = statements["n"]
        statements["last"] = []
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        response = client.post("/webhooks/zendesk", data=body, headers=headers)
        if profiler:
            profiler.disable()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 202 and response.get_json()["duplicate"] == duplicate, response.get_json()
        per_kind[duplicate].append((elapsed, statements["n"] - before))
        shown.setdefault("duplicate" if duplicate else "new", statements["last"])
    result = {"bench": "ack_profile", "db": args.db, "requests": len(measured), "profiled": bool(profiler)}
    if args.db == "postgresql":
        result["round_trips_per_request"] = round_trips(engine, client, args.requests)
    for duplicate, rows in per_kind.items():
        if rows:
            times = sorted(ms for ms, _ in rows)
            result["duplicate" if duplicate else "new"] = {
                "count": len(rows), "statements_per_request": statistics.mean(n for _, n in rows),
                "ms_p50": round(statistics.median(times), 3), "ms_mean": round(statistics.mean(times), 3),
                "ms_p99": round(times[int(len(times) * 0.99) - 1], 3)}
    print(json.dumps(result))
    for kind, executed in shown.items():
        print(f"statements of one {kind} delivery:", *executed, sep="\n  ")
    if profiler:
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(args.profile)
    app.extensions["triage"].close()


if __name__ == "__main__":
    main()
