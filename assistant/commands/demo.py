"""``assistant demo``: a short tour on the embedded default model and simulated scenarios."""

from __future__ import annotations

import argparse
import time

from assistant.commands.common import add_model_args

TOUR = [
    ("low_fuel", ["How far can I go?", "Can I make it to 60 km?", "Is my front left tyre OK?"]),
    ("flat_tyre", ["Are my tyres okay?", "What about the rear ones?", "and in psi?"]),
    ("check_engine", ["What's that orange light?"]),
    ("service_overdue", ["When is my next service?"]),
    ("oil_pressure_loss", ["How far can I go?"]),
]


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="a short tour: scenarios, questions, grounded answers",
                       description="Plays a few shipped scenarios through the real path (simulator -> "
                                   "virtual CAN bus -> reader -> tools -> model) and asks typical questions.")
    add_model_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from assistant.assembly import build_assistant, load_model
    from assistant.vehicle import LiveVehicle

    t0 = time.perf_counter()
    model = None if args.no_model else load_model(args.model)
    if model:
        print(f"model: {model.name} ({model.path.name}), loaded in {time.perf_counter() - t0:.2f} s")
    for scenario, questions in TOUR:
        with LiveVehicle.from_scenario(scenario) as vehicle:
            print(f"\n== scenario {scenario}: {vehicle.scenario.description}")
            assistant = build_assistant(vehicle.state, model if model is not None else False)
            for q in questions:
                a = assistant.ask(q)
                tools = ", ".join(f"{t.name}{'' if not t.arguments else t.arguments}" for t in a.tools
                                  if t.reason == "asked") or "-"
                how = "deterministic rendering" if a.fallback else "model wording, grounded"
                print(f"  driver:    {q}\n  assistant: {a.text}\n"
                      f"             [{tools}; {how}; {a.timings_ms['total']:.0f} ms]")
    return 0
