"""The ``assistant`` command line. Each subcommand lives in ``assistant/commands/``."""

from __future__ import annotations

import argparse
import logging
import os
import select
import sys

from assistant import __version__
from assistant.commands import ask, chat, demo, dialogue, monitor, persona, replay, serve, simulate, voice
from assistant.commands import history as history_cmd
from assistant.errors import UserError

COMMANDS = [ask, chat, demo, voice, dialogue, persona, simulate, replay, monitor, serve, history_cmd]

# Errors a user can fix (one tree, see assistant/errors.py): print them, no traceback, exit 2.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (UserError,)


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
        status = args.run(args) or 0
        sys.stdout.flush()              # inside the try: a closed pipe is seen here, not at exit
        return status
    except BrokenPipeError:
        if not _reader_gone():
            raise
        return PIPE_CLOSED
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


# The exit status when the reader of our output went away, as for a program ended by SIGPIPE.
PIPE_CLOSED = 128 + 13


def _reader_gone() -> bool:
    """After a BrokenPipeError: was it our stdout (or stderr) whose reader went away
    (``assistant monitor | head -1``)? Then point it at /dev/null (Python's recipe, see the
    ``signal`` docs: so the flush at exit does not fail again) and say True; False when the
    broken pipe is another one (a child process's), which is a real error."""
    gone = False
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            continue
        broken = False
        try:
            stream.flush()
        except BrokenPipeError:
            broken = True
        except (OSError, ValueError):
            pass
        if not broken:                  # nothing was left to write: ask the pipe itself
            try:
                poller = select.poll()
                poller.register(fd, select.POLLOUT)
                broken = any(ev & select.POLLERR for _, ev in poller.poll(0))
            except (OSError, ValueError, AttributeError):
                pass
        if broken:
            gone = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
    return gone


if __name__ == "__main__":
    sys.exit(main())
