"""``assistant ask "QUESTION"``: answer one question about the car and exit."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.commands.common import add_assistant_args, build_assistant, open_vehicle


def add_parser(sub) -> None:
    p = sub.add_parser("ask", help="answer one question and exit",
                       description="Answer one driver question from the live vehicle state (a scenario "
                                   "simulated in-process, or a live bus). Exit 0 on an answer, 2 on bad input.")
    p.add_argument("question", help="the question, in quotes")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: answer, tools, grounded, fallback, timings_ms")
    add_assistant_args(p)
    p.add_argument("--at", type=float, metavar="SECONDS",
                   help="with --log: answer about the car at this time into the recording (default: its end)")
    p.set_defaults(run=run, at_end=True)


def run(args: argparse.Namespace) -> int:
    from assistant.pipeline import validate_question
    validate_question(args.question)            # bad input fails before anything starts
    if args.at is not None and not args.log:
        from assistant.errors import UserError
        raise UserError("--at needs --log FILE (a time into a recording)")
    vehicle = open_vehicle(args)
    hist = None
    try:
        from assistant.history.session import for_command
        hist = for_command(args, vehicle)           # the history get_insights reads (docs/history.md)
        assistant = build_assistant(args, vehicle)
        answer = assistant.ask(args.question)
    finally:
        if hist is not None:
            hist.close()
        vehicle.stop()
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False))
    else:
        print(answer.text)
    sys.stdout.flush()
    return 0
