"""The ``assistant`` command line. Each subcommand lives in ``assistant/commands/``."""

from __future__ import annotations

import argparse
import logging
import sys

from assistant import __version__
from assistant.commands import ask, chat, demo, dialogue, monitor, persona, replay, serve, simulate, voice

COMMANDS = [ask, chat, demo, voice, dialogue, persona, simulate, replay, monitor, serve]

# Errors a user can fix: print one clear line, no traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = ()


def _expected_errors() -> tuple[type[BaseException], ...]:
    from assistant.can.bus import BusOpenError
    from assistant.can.dbc import DbcError
    from assistant.configfile import ConfigError
    from assistant.errors import UserError
    return (ConfigError, DbcError, BusOpenError, UserError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="assistant",
        description="Offline in-vehicle assistant grounded on live CAN signals.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in COMMANDS:
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args) or 0
    except _expected_errors() as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
