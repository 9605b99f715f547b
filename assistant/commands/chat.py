"""``assistant chat``: talk to the assistant, one question per line, answers streamed."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.commands.common import add_assistant_args, build_assistant, open_vehicle
from assistant.errors import UserError
from assistant.pipeline import Event, EventType


def add_parser(sub) -> None:
    p = sub.add_parser("chat", help="interactive conversation (follow-up questions keep context)",
                       description="Ask questions one per line; Ctrl-D or 'quit' ends. Follow-ups such as "
                                   "'and in miles?' or 'what about the rear ones?' refer to the previous turn.")
    p.add_argument("--show-tools", "--verbose-tools", dest="show_tools", action="store_true",
                   help="show which tools ran and what they returned")
    p.add_argument("--no-alerts", action="store_true",
                   help="do not print proactive warnings (a critical lamp coming on) between questions")
    add_assistant_args(p)
    p.add_argument("--speed", type=float, default=1.0,
                   help="with --log: play the recording this many times faster than real time (default 1)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    vehicle = open_vehicle(args)
    show_tools = args.show_tools or args.verbose > 0
    monitor = None
    from assistant.history.session import for_command
    hist = for_command(args, vehicle)               # the history get_insights reads (docs/history.md)
    try:
        assistant = build_assistant(args, vehicle)
        if not args.no_alerts:
            monitor = assistant.alert_monitor(lambda alert: print(f"\n[alert] {alert.text}", flush=True)).start()
        interactive = sys.stdin.isatty()
        greeting = getattr(getattr(assistant, "persona", None), "greeting", None) or \
            "Ask me about range, fuel, warning lights, service or tyres."
        print(greeting, flush=True)
        while True:
            if interactive:
                print("> ", end="", flush=True)
            line = sys.stdin.readline()
            if not line:
                break
            question = line.strip()
            if question.lower() in ("quit", "exit", "bye"):
                break
            if not question:
                continue

            def on_event(e: Event) -> None:
                if e.type is EventType.TOOL and show_tools:
                    t = e.data
                    print(f"  [tool {t.name}({json.dumps(t.arguments)}) -> "
                          f"{json.dumps(t.result.model_dump(mode='json')) if t.result else t.error}]",
                          file=sys.stderr, flush=True)
                elif e.type is EventType.ERROR and show_tools:
                    print(f"  [{e.stage.value} failed: {e.data}]", file=sys.stderr, flush=True)
                elif e.type is EventType.TEXT:
                    print(e.data, end="", flush=True)
            try:
                answer = assistant.ask(question, on_event=on_event)
            except UserError as e:
                print(f"error: {e}", file=sys.stderr, flush=True)
                continue
            print(flush=True)
            if show_tools:
                t = answer.timings_ms
                print(f"  [{answer.route}; grounded={answer.grounded} fallback={answer.fallback}; "
                      f"first token {t.get('first_token', 0):.0f} ms, total {t.get('total', 0):.0f} ms]",
                      file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print(file=sys.stderr)
    finally:
        if monitor:
            monitor.stop()
        hist.close()
        vehicle.stop()
    return 0
