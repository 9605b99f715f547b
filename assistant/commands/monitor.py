"""``assistant monitor``: a live table of canonical signals (value, unit, age; stale marked)."""

from __future__ import annotations

import argparse
import json
import sys
import time

from assistant.commands.common import add_bus_args, bus_config
from assistant.state.store import MISSING, OK, STALE, UNAVAILABLE, Reading
from assistant.vehicle import LiveVehicle


def add_parser(sub) -> None:
    p = sub.add_parser("monitor", help="show decoded signals live",
                       description="Read the bus through the assistant's own reader and show every "
                                   "canonical signal with value, unit and age; stale ones are marked. "
                                   "With --scenario the simulator runs in-process on python-can's "
                                   "virtual bus (no vcan needed).")
    p.add_argument("--profile", help="vehicle profile name or .yaml (default: demo, or the scenario's vehicle)")
    p.add_argument("--scenario", help="simulate this scenario in-process instead of reading a real bus")
    p.add_argument("--log", metavar="FILE", help="read a recorded python-can log instead of a bus (no vcan needed)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="with --log: play the recording this many times faster than real time (default 1)")
    p.add_argument("--at", type=float, metavar="SECONDS",
                   help="with --log: show the car at this time into the recording (implies --once)")
    p.add_argument("--once", action="store_true",
                   help="print one snapshot and exit (status 3 if the bus is not connected)")
    p.add_argument("--json", action="store_true", help="with --once: one JSON object")
    p.add_argument("--wait", type=float, default=1.5,
                   help="with --once: seconds to collect frames first (default 1.5)")
    p.add_argument("--interval", type=float, default=0.5, help="refresh period in seconds (default 0.5)")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    add_bus_args(p)
    p.set_defaults(run=run)


def _fmt_value(r: Reading) -> str:
    if r.status in (MISSING, UNAVAILABLE) or r.value is None:
        return "-"
    v = r.value
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, list):
        return ",".join(v) or "(none)"
    return str(v)


def render(vehicle: LiveVehicle) -> str:
    snap = vehicle.state.snapshot()
    width = max((len(n) for n in snap), default=10)
    lines = [f"{'signal':<{width}}  {'value':>12} {'unit':<8} {'age':>7}  status",
             "-" * (width + 40)]
    marks = {OK: "", STALE: "STALE", UNAVAILABLE: "n/a (sender: not available)", MISSING: "not received"}
    for name, r in snap.items():
        age = f"{r.age:.1f}s" if r.age is not None else "-"
        lines.append(f"{name:<{width}}  {_fmt_value(r):>12} {r.unit or '':<8} {age:>7}  {marks[r.status]}")
    c = vehicle.reader.counts
    state = "connected" if vehicle.reader.connected.is_set() else f"NOT CONNECTED ({vehicle.reader.last_error})"
    lines.append("")
    lines.append(f"{vehicle.cfg.describe()} [{state}] profile {vehicle.profile.name}: "
                 f"{c['frames']} frames, {c['decoded']} decoded")
    lines.append("skipped or flagged: " + ", ".join(f"{c[k]} {label}" for k, label in FOOTER_COUNTERS))
    return "\n".join(lines)


VIRTUAL_NOTE = ("note: python-can's virtual bus exists only inside one process: frames another process "
                "sends (assistant replay, simulate) never arrive here. Read a recording with --log FILE, "
                "simulate in-process with --scenario NAME, or use a vcan0 bus.")

# FrameDecoder counters shown under the table, beside frames/decoded (--json has them all).
FOOTER_COUNTERS = (("unknown_id", "unknown id"), ("short_dlc", "short"), ("long_dlc", "long (decoded)"),
                   ("undecodable", "undecodable"), ("bad_value", "bad value"),
                   ("out_of_range", "out of range"), ("out_of_order", "out of order"),
                   ("error_or_remote", "error/remote"), ("bus_errors", "bus errors"))


def snapshot_json(vehicle: LiveVehicle) -> dict:
    return {"profile": vehicle.profile.name, "bus": vehicle.cfg.describe(),
            "connected": vehicle.reader.connected.is_set(),
            "counts": dict(vehicle.reader.counts),
            "signals": {n: r.to_dict() for n, r in vehicle.state.snapshot().items()}}


def run(args: argparse.Namespace) -> int:
    status = (lambda s: None) if args.json else (lambda s: print(s, file=sys.stderr, flush=True))
    if args.log:
        from assistant.commands.common import open_recording
        vehicle = open_recording(args)
        args.once = args.once or args.at is not None
    elif args.at is not None:
        from assistant.errors import UserError
        raise UserError("--at needs --log FILE (a time into a recording)")
    else:
        if args.scenario:
            cfg = bus_config(args) if (args.interface or args.channel) else None
            vehicle = LiveVehicle.from_scenario(args.scenario, cfg, profile=args.profile, on_status=status)
        else:
            cfg = bus_config(args)
            if cfg.interface == "virtual":
                print(VIRTUAL_NOTE, file=sys.stderr, flush=True)
            vehicle = LiveVehicle.from_bus(cfg, args.profile or "demo", on_status=status)
        vehicle.start()
    try:
        if args.once:
            if args.at is None:
                time.sleep(args.wait)
            print(json.dumps(snapshot_json(vehicle), indent=2) if args.json else render(vehicle))
            if not vehicle.reader.connected.is_set():
                print(f"monitor: not connected to {vehicle.cfg.describe()}: {vehicle.reader.last_error}; "
                      "the snapshot above holds no live data", file=sys.stderr)
                return 3
            return 0
        tty = sys.stdout.isatty()
        deadline = time.monotonic() + args.duration if args.duration else None
        while deadline is None or time.monotonic() < deadline:
            out = render(vehicle)
            print(("\x1b[H\x1b[2J" if tty else "\n") + out, flush=True)
            time.sleep(args.interval)
    except KeyboardInterrupt:
        pass
    finally:
        vehicle.stop()
    return 0
