"""``assistant simulate SCENARIO``: play a scenario onto a CAN bus (bench only)."""

from __future__ import annotations

import argparse
import sys
import time

from assistant.sim.scenario import check_against_profile, load_scenario, resolve_scenario_path
from assistant.sim.simulator import Simulator
from assistant.can.bus import open_bus
from assistant.can.profile import load_profile
from assistant.commands.common import add_bus_args, bus_config


def add_parser(sub) -> None:
    p = sub.add_parser("simulate", help="play a scenario onto a CAN bus",
                       description="Send every message of a scenario at its DBC cycle time (python-can "
                                   "periodic tasks), applying timeline changes on time. The only command "
                                   "that transmits.")
    p.add_argument("scenario", help="scenario name (scenarios/NAME.yaml) or path to a .yaml file")
    p.add_argument("--profile", help="vehicle profile (default: the scenario's `vehicle:`)")
    p.add_argument("--duration", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    add_bus_args(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = resolve_scenario_path(args.scenario)
    scenario = load_scenario(path)
    profile = load_profile(args.profile or scenario.vehicle)
    check_against_profile(scenario, profile, path)
    cfg = bus_config(args)
    if cfg.interface == "virtual":
        print("note: the virtual interface only reaches this process; use `assistant monitor --scenario "
              f"{scenario.name}` to watch it, or socketcan vcan0 across processes", file=sys.stderr)
    bus = open_bus(cfg)
    sim = Simulator(bus, profile, scenario, on_event=lambda s: print(s, flush=True))
    try:
        sim.start()
        print(f"simulating {scenario.name!r} ({profile.name}) on {cfg.describe()}: "
              f"{len(sim.messages)} messages, {len(scenario.signals)} signals"
              + (f", {len(scenario.timeline)} timeline steps" if scenario.timeline else "")
              + "; Ctrl-C to stop", flush=True)
        for name in sim.messages:
            print(f"  {name:<24} every {profile.cycle_time(name) * 1000:g} ms")
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.2 if deadline is None else max(0.0, min(0.2, deadline - time.monotonic())))
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        bus.shutdown()
    return 0
