"""Entry point of the `triage` console script: each command group registers its own subcommands.

Kept light: `triage --version` answers before any command module (pydantic, SQLAlchemy, the model) is
imported. A command that fails prints one line naming the error; `--debug` (anywhere on the line) shows
the traceback instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def version() -> str:
    """The installed package's version; from pyproject.toml when run from a checkout that is not installed."""
    from importlib import metadata

    try:
        return metadata.version("triage")
    except metadata.PackageNotFoundError:
        import tomllib

        try:
            return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["version"]
        except (OSError, KeyError, ValueError):
            return "unknown"


def build_parser() -> argparse.ArgumentParser:
    from cli import audit_commands, helpdesk_commands, learning_commands, model_commands, service_commands

    parser = argparse.ArgumentParser(prog="triage", description="Helpdesk ticket triage bot.")
    parser.add_argument("--version", action="version", version=f"triage {version()}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks (also accepted after the command)")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (service_commands, model_commands, helpdesk_commands, learning_commands, audit_commands):
        group.register(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command_at = next((i for i, word in enumerate(argv) if not word.startswith("-")), len(argv))
    if "--version" in argv[:command_at]:  # before the command modules are imported: instant
        print(f"triage {version()}")
        return 0
    debug = "--debug" in argv
    argv = [word for word in argv if word != "--debug"]
    args = build_parser().parse_args(argv)
    args.debug, args.command_line = debug, " ".join(argv)
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # inside the try: a reader that left shows here, not at interpreter exit
        return code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `triage train | head`: the reader left; say nothing more (Python's own recipe)
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as exc:
        if debug:
            raise
        detail = (str(exc).strip().splitlines() or [""])[0][:300]
        print(f"triage: {args.command} failed: {type(exc).__name__}: {detail}\n"
              f"(`triage --debug {args.command_line}` shows the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
