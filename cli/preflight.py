"""One pass over what `triage serve | worker | clock` need before anything starts: settings, routing file,
database (reachable, schema known) and model, and Redis when set. Every problem is collected, none raised
early; they are printed as one short block (a headline, one line each, a hint) and the command exits 2.
`triage --debug ...` adds each problem's traceback.

The model is loaded in a throwaway process (while the other checks run): the supervisor of `triage serve`
must not carry the classifier's libraries, its children load the model themselves.
"""
from __future__ import annotations

import multiprocessing
import os
import re
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from config.settings import Settings
from config.validation import read_settings

EXIT_CODE = 2
CONNECT_TIMEOUT_SECONDS = 3
MAX_SHOWN = 14  # with the headline, "... and N more" and the hint, a block stays under 20 lines


@dataclass
class Problem:
    text: str
    error: BaseException | str | None = None  # its traceback is shown with --debug


def settings_or_exit(args, overrides: dict | None = None) -> Settings:
    """The settings, or the block of every bad variable and exit 2 (all commands but the services)."""
    report = read_settings(overrides)
    if report.problems:
        exit_with(args, "configuration error", [Problem(text) for text in report.problems])
    return report.settings


def preflight_or_exit(args, overrides: dict | None = None, upgrade: bool = False) -> Settings:
    """The settings once every check passed; else the block and exit 2. `upgrade`: the caller migrates the
    database itself (serve), so a schema that is behind is fine."""
    report = read_settings(overrides)
    problems, warnings = [Problem(text) for text in report.problems], []
    settings, bad = report.settings, report.bad
    if settings is not None:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            model = None
            if not bad & {"triage_model_dir", "triage_starter_model"}:
                model = pool.submit(model_labels, settings.triage_model_dir, settings.triage_starter_model)
            routing = None
            if "triage_routing_file" not in bad:
                routing = _checked(problems, _routing, settings.triage_routing_file)
            if "database_url" not in bad:
                problems += _checked(problems, database_problems, settings.database_url, upgrade) or []
            if settings.redis_url and "redis_url" not in bad:
                _checked(problems, _ping_redis, settings.redis_url)
            labels = _checked(problems, _model_result, model) if model is not None else None
            if routing is not None and labels:
                warnings += _unknown_categories(settings.triage_routing_file, routing, labels)
    if problems:
        exit_with(args, "cannot start", problems, warnings)
    for warning in warnings:
        print(f"triage: warning: {warning}", file=sys.stderr)
    return settings


class _Found(Exception):
    def __init__(self, problems: list[str], error: BaseException | str | None = None):
        super().__init__("\n".join(problems))
        self.problems, self.error = problems, error


def _checked(problems: list[Problem], check, *arguments):
    try:
        return check(*arguments)
    except _Found as found:
        problems += [Problem(text, found.error or found) for text in found.problems]
    except Exception as exc:  # a check that broke is a problem too, named, never a traceback
        problems.append(Problem(f"{check.__name__.strip('_')}: {type(exc).__name__}: {first_line(exc)}", exc))
    return None


def _routing(path: Path):
    from config.routing import RoutingError, load_routing

    try:
        return load_routing(path)
    except RoutingError as exc:
        raise _Found(exc.problems, exc) from None


def model_labels(model_dir: Path, starter: Path) -> tuple[list[str], str | None, str | None]:
    """Load the model the service would use: (its categories, else the problem and its traceback).
    Runs in the throwaway process, so it answers in plain values."""
    from classifier.artifact import ArtifactError
    from classifier.registry import ModelRegistry, RegistryError

    try:
        model = ModelRegistry(model_dir, starter).load_current()
    except (ArtifactError, RegistryError) as exc:
        hint = f" ({starter} is not a folder)" if isinstance(exc, RegistryError) and not Path(starter).is_dir() else ""
        return [], f"model (TRIAGE_MODEL_DIR / TRIAGE_STARTER_MODEL): {first_line(exc)}{hint}", traceback.format_exc()
    manifest = getattr(model, "manifest", None) or {}
    return list((manifest.get("labels") or {}).get(manifest.get("main_label"), [])), None, None


def _model_result(future) -> list[str]:
    labels, problem, trace = future.result()
    if problem:
        raise _Found([problem], trace)
    return labels


def _unknown_categories(path: Path, routing, labels: list[str]) -> list[str]:
    """A routing entry for a category the model never predicts is most likely a typo (REFUND, REFUNDS)."""
    from config.routing import locate

    return [f"{path}:{locate(path, ('categories', name)) or '?'}: category {name!r} is not one of the current "
            f"model's ({', '.join(labels)}); its route is never used"
            for name in routing.categories if name not in labels]


def _ping_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                             socket_timeout=CONNECT_TIMEOUT_SECONDS).ping()
    except redis.RedisError as exc:
        raise _Found([f"REDIS_URL: cannot reach Redis: {first_line(exc)}"], exc) from None


def database_problems(url: str, upgrade: bool) -> list[Problem]:
    """Reachable within a few seconds, and at a schema this triage knows (at the latest one unless `upgrade`)."""
    from sqlalchemy import create_engine, inspect, make_url, text
    from sqlalchemy.pool import NullPool

    parsed = make_url(url)
    postgres = parsed.get_backend_name() == "postgresql"
    server = f"at {parsed.host}:{parsed.port or 5432}" if parsed.host else "on the local socket"
    where = f"PostgreSQL database {parsed.database!r} {server}" if postgres else f"SQLite file {parsed.database}"
    connect_args = {}
    if postgres and "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    if not postgres and parsed.database and parsed.database != ":memory:" and not Path(parsed.database).exists():
        folder = Path(parsed.database).absolute().parent  # serve creates the file; do not leave one behind here
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            why = "does not exist" if not folder.is_dir() else "is not writable"
            return [Problem(f"DATABASE_URL: cannot create the {where}: its folder {folder} {why}")]
        return [] if upgrade else [Problem(f"DATABASE_URL: the {where} does not exist yet: run `triage db upgrade`")]
    engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            current = (connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
                       if inspect(connection).has_table("alembic_version") else None)
    except Exception as exc:
        reason = _connect_reason(exc, parsed.password)
        hint = "" if postgres else " (does its folder exist, and may triage write there?)"
        return [Problem(f"DATABASE_URL: cannot connect to the {where}: {reason}{hint}", exc)]
    finally:
        engine.dispose()
    from alembic.script import ScriptDirectory

    from store.database import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    heads = set(script.get_heads())
    if current is not None and current not in {revision.revision for revision in script.walk_revisions()}:
        return [Problem(f"DATABASE_URL: the {where} is at schema revision {current}, which this version of triage "
                        "does not know (migrated by a newer triage?)")]
    if not upgrade and current not in heads:
        state = "has no tables yet" if current is None else f"is at an older schema ({current})"
        return [Problem(f"DATABASE_URL: the {where} {state}: run `triage db upgrade`")]
    return []


def _connect_reason(exc: BaseException, password: str | None) -> str:
    reason = first_line(getattr(exc, "orig", None) or exc)
    reason = re.sub(r'^(connection failed: )?(connection to server at .*?, port \d+ failed: )?(FATAL:\s+)?', "", reason)
    if password:
        reason = reason.replace(password, "***")
    return reason[:1].lower() + reason[1:]


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0].strip()[:300] if lines else type(exc).__name__


def exit_with(args, headline: str, problems: list[Problem], warnings: list[str] = ()) -> None:
    """Print the block (headline, one line per problem, a hint; tracebacks first with --debug); exit 2."""
    debug, command = getattr(args, "debug", False), getattr(args, "command_line", "") or "..."
    if debug:
        for error in {id(p.error): p.error for p in problems if p.error is not None}.values():
            print(error if isinstance(error, str) else "".join(traceback.format_exception(error)), file=sys.stderr)
    lines = [problem.text for problem in problems] + [f"warning: {warning}" for warning in warnings]
    count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
    out = [f"triage: {headline}: {count}"] + [f"  {line}" for line in lines[:MAX_SHOWN]]
    if len(lines) > MAX_SHOWN:
        out.append(f"  ... and {len(lines) - MAX_SHOWN} more")
    out.append("Fix these and run it again (settings: the environment or ./.env, listed in config/.env.example)"
               + ("." if debug else f"; `triage --debug {command}` shows tracebacks."))
    print("\n".join(out), file=sys.stderr)
    raise SystemExit(EXIT_CODE)
