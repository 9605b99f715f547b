"""``assistant persona check|preview``: for OEM brand teams tuning personas."""

from __future__ import annotations

import argparse

from assistant.commands.common import build_assistant


def add_parser(sub) -> None:
    p = sub.add_parser("persona", help="check or preview persona files",
                       description="Validate persona files (errors and warnings with file:line: field) and "
                                   "preview how a persona answers.")
    psub = p.add_subparsers(dest="persona_command", metavar="SUBCOMMAND", required=True)

    c = psub.add_parser("check", help="validate persona files; exit 1 on any error",
                        description="Errors: unknown field, wrong type, bad unit, length cap out of range, "
                                    "safety wording overridden; each at the file and line where the value is "
                                    "written (a base persona's own file for an inherited value). Warnings: risky "
                                    "but legal choices (answer caps above the driving-distraction limit, or so "
                                    "small while moving that warning sentences after the first are cut: "
                                    "max_words < 16 or max_sentences 1). Exit 0 when no file has errors.")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.add_argument("--strict", action="store_true", help="warnings also fail (exit 1)")
    c.set_defaults(run=run_check)

    v = psub.add_parser("preview", help="answer a question in this persona (beside the neutral default)")
    v.add_argument("file", metavar="FILE")
    v.add_argument("question")
    v.add_argument("--scenario", "-s", default="normal_drive", help="scenario (default normal_drive)")
    v.add_argument("--no-default", action="store_true", help="do not show the default persona's answer")
    v.add_argument("--model", help="GGUF model file")
    v.add_argument("--no-model", action="store_true")
    v.set_defaults(run=run_preview)


def run_check(args: argparse.Namespace) -> int:
    from assistant.persona import check_file
    failed = False
    for f in args.files:
        errors, warnings = check_file(f)
        for e in errors:
            print(f"error: {e}")
        for w in warnings:
            print(f"warning: {w}")
        if not errors and not warnings:
            print(f"{f}: OK")
        elif not errors:
            print(f"{f}: OK with {len(warnings)} warning(s)")
        failed |= bool(errors) or (args.strict and bool(warnings))
    return 1 if failed else 0


def run_preview(args: argparse.Namespace) -> int:
    from assistant.persona import load_persona
    from assistant.vehicle import LiveVehicle
    persona = load_persona(args.file)
    args.persona = args.file
    with LiveVehicle.from_scenario(args.scenario) as vehicle:
        answer = build_assistant(args, vehicle).ask(args.question)
        print(f"{persona.name} ({persona.brand or 'no brand'}, {persona.locale}, {persona.units.distance}/"
              f"{persona.units.pressure}/{persona.units.temperature}) [{answer.driving}]:\n  {answer.text}")
        if not args.no_default:
            args.persona = None
            default = build_assistant(args, vehicle).ask(args.question)
            print(f"default:\n  {default.text}")
    return 0
