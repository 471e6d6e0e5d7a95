"""How big and how fast is the admin page with thousands of tickets waiting for review?

    python bench/admin_page.py [--waiting 5000] [--loads 7] [--db sqlite|postgresql] [--json]

Seeds `--waiting` open review items (tests/queue_seed.py: ticket, delivery, prediction, review message each) into
a fresh store (SQLite in a temp folder, or a scratch PostgreSQL database on 127.0.0.1, dropped afterwards), builds
the app with the admin page on, serves it on loopback (werkzeug, threaded, in this process, as the browser tests
do) and measures:
- the page's HTML size (GET /admin with a bearer token) and data.json's (what the 15 s refresh fetches);
- the server's time to answer /admin (median of `--loads`);
- in headless Chromium (the system's, logged in through the form): navigation start to first paint, first
  contentful paint and DOMContentLoaded, over `--loads` loads of the first page and of a filtered, searched
  third page; medians printed.
Targets (issue 21): HTML under 300 KB and first paint under 1 s with 5,000 waiting.
"""
from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
from browser import CHROMIUM_FLAGS, chromium_path, live_server  # noqa: E402  (the tests' Chromium and server)
from queue_seed import seed_waiting_reviews  # noqa: E402

TOKEN = "bench-admin-token-0b9d"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
SIZE_TARGET, PAINT_TARGET = 300 * 1024, 1000.0
TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = name => (performance.getEntriesByName(name)[0] || {}).startTime ?? null;
  return {first_paint: paint("first-paint"), first_contentful_paint: paint("first-contentful-paint"),
          dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd, html_bytes: nav.decodedBodySize};
}"""


def build_app(database_url: str, workdir: Path):
    from app import create_app

    return create_app({
        "database_url": database_url, "triage_admin_token": TOKEN, "triage_model_dir": workdir / "models",
        "triage_routing_file": REPO / "config" / "routing.toml", "triage_starter_model": REPO / "models" / "starter",
        # links to the agent UI are drawn; the API URL is a closed local port: nothing is written in this bench
        "zendesk_subdomain": "acme", "zendesk_email": "bench@example.com", "zendesk_api_token": "t",
        "zendesk_webhook_secret": "s", "zendesk_api_url": "http://127.0.0.1:9",
        "freshdesk_domain": "acme", "freshdesk_api_key": "k", "freshdesk_webhook_secret": "s",
        "freshdesk_api_url": "http://127.0.0.1:9",
    }, env_file=None)


def server_figures(base: str, loads: int) -> dict:
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}"}
    times, sizes = [], {}
    for _ in range(loads):
        started = time.perf_counter()
        page = requests.get(f"{base}/admin", headers=headers, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        page.raise_for_status()
        sizes["html_bytes"] = len(page.content)
    data = requests.get(f"{base}/admin/data.json", headers=headers, timeout=60)
    data.raise_for_status()
    sizes["data_json_bytes"] = len(data.content)
    return {**sizes, "server_ms_median": statistics.median(times), "server_ms_max": max(times)}


def browser_figures(base: str, loads: int, paths: dict[str, str]) -> dict:
    from playwright.sync_api import sync_playwright

    found: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=chromium_path(), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1400, "height": 1000})
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(f"{base}/admin")
        page.fill("#token", TOKEN)
        page.click("#login")
        page.wait_for_selector("body[data-drawn]")
        for name, path in paths.items():
            runs = []
            for _ in range(loads):
                page.goto(f"{base}{path}", wait_until="load")
                page.wait_for_selector("body[data-drawn]")
                timing = page.evaluate(TIMING)
                for _ in range(50):  # paint entries are queued a moment after the load event
                    if timing["first_paint"] is not None:
                        break
                    page.wait_for_timeout(20)
                    timing = page.evaluate(TIMING)
                runs.append(timing)
            found[name] = {key: statistics.median(r[key] for r in runs if r[key] is not None)
                           for key in runs[0]}
            found[name]["rows_shown"] = page.inner_text("#reviews-shown")
        context.close()
    return found


def scratch_postgres() -> tuple[str, str]:
    import uuid

    import psycopg

    name = f"triage_bench_admin_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def drop_postgres(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(waiting: int, loads: int, db: str) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="triage-admin-bench-"))
    if db == "sqlite":
        return measure(waiting, loads, f"sqlite:///{workdir / 'bench.db'}", workdir)
    name, url = scratch_postgres()
    try:
        return measure(waiting, loads, url, workdir)
    finally:
        drop_postgres(name)


def measure(waiting: int, loads: int, url: str, workdir: Path) -> dict:
    from store.database import Store

    store = Store(url)
    store.upgrade()
    started = time.perf_counter()
    seed_waiting_reviews(store, waiting)
    seeded = time.perf_counter() - started
    app = build_app(url, workdir)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    try:
        with live_server(app) as base:
            figures = {"waiting": waiting, "database": url.split(":", 1)[0].split("+")[0],
                       "seed_seconds": round(seeded, 1),
                       **server_figures(base, loads)}
            figures["chromium"] = browser_figures(base, loads, {
                "first page": "/admin",
                "filtered page 3": "/admin?reviews.q=broken&reviews.helpdesk=zendesk&reviews.page=3#reviews"})
    finally:
        app.extensions["triage"].close()
        store.dispose()
    first = figures["chromium"]["first page"]
    figures["within_targets"] = bool(figures["html_bytes"] < SIZE_TARGET and first["first_paint"] < PAINT_TARGET)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--waiting", type=int, default=5000)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    figures = run(args.waiting, args.loads, args.db)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{figures['waiting']} waiting for review, {figures['database']}, medians of {args.loads} loads")
        print(f"  /admin HTML {figures['html_bytes'] / 1024:.1f} KB (target < {SIZE_TARGET // 1024} KB), "
              f"data.json {figures['data_json_bytes'] / 1024:.1f} KB, server {figures['server_ms_median']:.0f} ms "
              f"(max {figures['server_ms_max']:.0f} ms)")
        for name, timing in figures["chromium"].items():
            print(f"  Chromium, {name} ({timing['rows_shown']}): first paint {timing['first_paint']:.0f} ms "
                  f"(target < {PAINT_TARGET:.0f}), first contentful paint {timing['first_contentful_paint']:.0f} ms, "
                  f"DOMContentLoaded {timing['dom_content_loaded']:.0f} ms, load {timing['load']:.0f} ms")
        print("  within targets" if figures["within_targets"] else "  NOT within targets")
    return 0 if figures["within_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
