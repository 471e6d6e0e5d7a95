"""`triage audit`: who did what and when, newest first, from the store's audit trail.

A person gets one line per entry: time (UTC), who, action, target, what changed ("field: before → after") and where
it came from. `--json` prints JSON Lines: one object per entry and line (id, at, actor, action, target, before, after,
source), newest first, nothing else on stdout; an empty trail prints nothing.
"""
from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timedelta, timezone

_AGO = re.compile(r"([1-9][0-9]{0,5})([hd])")


def register(subcommands) -> None:
    from store.audit import ACTIONS

    audit = subcommands.add_parser("audit", help="the audit trail: who did what, when, before and after")
    audit.add_argument("--limit", type=_positive, default=50, help="at most this many entries (default 50)")
    audit.add_argument("--actor", help="only this operator's or Slack user's entries")
    audit.add_argument("--action", choices=ACTIONS, help="only this kind of action")
    audit.add_argument("--since", type=_since, metavar="WHEN",
                       help="only entries newer than this: 24h, 7d, or a date (YYYY-MM-DD, UTC)")
    audit.add_argument("--json", action="store_true", help="JSON Lines: one object per entry, newest first")
    audit.set_defaults(handler=run_audit)


def run_audit(args: argparse.Namespace) -> int:
    from cli.preflight import settings_or_exit
    from store import audit
    from store.database import Store

    store = Store(settings_or_exit(args).database_url)
    try:
        with store.session() as session:
            found = audit.entries(session, audit.Filters(actor=args.actor, action=args.action, since=args.since),
                                  limit=args.limit)
            rows = [audit.as_dict(entry) for entry in found]
    finally:
        store.dispose()
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif not rows:
        print("no audit entries" + (" match" if args.actor or args.action or args.since else ""))
    else:
        for row in rows:
            print(line(row))
    return 0


def line(row: dict) -> str:
    """One entry for a person: `2026-03-02 14:05:09  ana  correction  zendesk:123  category: A → B  (admin)`."""
    at = datetime.fromisoformat(row["at"]).strftime("%Y-%m-%d %H:%M:%S")
    before, after = row["before"] or {}, row["after"] or {}
    changed = "; ".join(f"{name}: {_shown(before.get(name))} → {_shown(after.get(name))}"
                        for name in dict.fromkeys([*before, *after]))
    return f"{at}  {row['actor']}  {row['action']}  {row['target']}  {changed}  ({row['source']})"


def _shown(value: object) -> str:
    return "—" if value is None else str(value)


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 100000, not {text!r}")
    return int(text)


def _since(text: str) -> datetime:
    ago = _AGO.fullmatch(text.strip())
    if ago:
        amount, unit = int(ago.group(1)), ago.group(2)
        return datetime.now(timezone.utc) - (timedelta(hours=amount) if unit == "h" else timedelta(days=amount))
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not 24h, 7d or a date (YYYY-MM-DD)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def cli_operator() -> str:
    """Who acts from a shell (`triage models promote`, `triage events retry`): the login name, marked `cli:`."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid (a container)
        return "cli"
