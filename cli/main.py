"""Entry point of the `triage` console script: each command group registers its own subcommands."""
from __future__ import annotations

import argparse
import sys

from cli import helpdesk_commands, learning_commands, model_commands, service_commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="triage", description="Helpdesk ticket triage bot.")
    subcommands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (service_commands, model_commands, helpdesk_commands, learning_commands):
        group.register(subcommands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
