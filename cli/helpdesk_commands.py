"""`triage routing check` and `triage backfill`: the commands that talk to the helpdesks."""
from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from integrations.registry import HELPDESKS


def register(subcommands) -> None:
    routing = subcommands.add_parser("routing", help="the routing file").add_subparsers(dest="routing_command",
                                                                                        required=True)
    check = routing.add_parser("check", help="list groups, agents and fields the routing file names but the "
                                             "helpdesk lacks")
    check.add_argument("--helpdesk", choices=HELPDESKS, help="default: every configured helpdesk")
    check.add_argument("--json", action="store_true")
    check.set_defaults(handler=_routing_check)

    backfill = subcommands.add_parser("backfill", help="import solved and closed tickets as labelled training data")
    backfill.add_argument("--helpdesk", choices=HELPDESKS, required=True)
    backfill.add_argument("--since", required=True, type=_date, help="YYYY-MM-DD (UTC)")
    backfill.add_argument("--label-from", required=True, help="group | field:NAME | tag-prefix:PREFIX")
    backfill.add_argument("--restart", action="store_true", help="ignore the stored cursor and start at --since")
    backfill.add_argument("--max-pages", type=int, default=None, help=argparse.SUPPRESS)
    backfill.set_defaults(handler=_backfill)


def _date(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2024-01-31") from None


def _fail(message: str, code: int = 2) -> int:
    print(f"triage: {message}", file=sys.stderr)
    return code


def _routing_check(args: argparse.Namespace) -> int:
    from cli.service_commands import _settings
    from config.routing import RoutingError, load_routing
    from integrations.base import FetchUnavailable
    from integrations.errors import HelpdeskError
    from integrations.registry import build_helpdesk
    from integrations.routing_check import routing_problems, unknown_agent_settings

    settings = _settings()
    try:
        routing = load_routing(settings.triage_routing_file)
    except RoutingError as exc:
        return _fail(f"routing file: {exc}")
    report: dict[str, list[str]] = {}
    unknown_agents: list[set[str]] = []
    for key in [args.helpdesk] if args.helpdesk else HELPDESKS:
        adapter = build_helpdesk(key, settings)
        if adapter.dry_run:
            if args.helpdesk:
                return _fail(f"{key} API is not configured (see the README, Connecting {key.capitalize()})")
            continue
        try:
            catalog = adapter.catalog()
            team = getattr(getattr(adapter, "assigner", None), "team", None)
            report[key] = routing_problems(routing, key, catalog, team)
            unknown_agents.append(unknown_agent_settings(routing, catalog))
        except (HelpdeskError, FetchUnavailable) as exc:
            return _fail(f"cannot read {key}'s groups, agents and fields: {exc}")
    if not report:
        return _fail("no helpdesk API is configured: nothing to check against")
    # an agent's own cap or hours may name an agent of either helpdesk: wrong only when none has them
    for name in sorted(set.intersection(*unknown_agents)):
        report[next(iter(report))].append(f"assignment.agents.{name}: no agent {name!r} in {' or '.join(report)}")
    if args.json:
        print(json.dumps(report))
    for key, problems in report.items():
        if args.json:
            break
        print(f"{key}: {'routing file matches the helpdesk' if not problems else f'{len(problems)} problem(s)'}")
        for line in problems:
            print(f"  {line}")
    return 1 if any(report.values()) else 0


def _backfill(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from cli.service_commands import _settings
    from integrations.backfill import run_backfill
    from integrations.errors import HelpdeskError
    from integrations.labels import LabelSource, LabelSourceError
    from integrations.registry import build_helpdesk
    from store.database import Store

    try:
        label_from = LabelSource.parse(args.label_from)
    except LabelSourceError as exc:
        return _fail(str(exc))
    settings = _settings()
    store = Store(settings.database_url)
    store.upgrade()
    adapter = build_helpdesk(args.helpdesk, settings, store)
    if adapter.dry_run:
        return _fail(f"{args.helpdesk} API is not configured (see the README, Connecting {args.helpdesk.capitalize()})")
    bar = tqdm(unit=" tickets", desc=f"{args.helpdesk} since {args.since:%Y-%m-%d}", file=sys.stderr)
    stored = [0]

    def on_page(seen: int, new: int) -> None:
        stored[0] += new
        bar.update(seen)
        bar.set_postfix(labelled=stored[0])

    try:
        report = run_backfill(adapter, store, args.since, label_from, restart=args.restart, on_page=on_page,
                              max_pages=args.max_pages)
    except (HelpdeskError, LabelSourceError) as exc:
        bar.close()
        return _fail(f"backfill stopped (run it again to resume): {exc}", 1)
    bar.close()
    state = "done" if report.finished else "paused (run it again to resume)"
    print(f"{args.helpdesk}: {report.seen} solved/closed tickets read, {report.stored} labelled and stored; {state}. "
          f"Next: triage train --from-store")
    return 0
