"""``assistant replay LOG``: play a recorded CAN log onto a bus with its original timing."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

import can

from assistant.can.bus import open_bus
from assistant.commands.common import add_bus_args, bus_config
from assistant.errors import UserError


def scaled(messages: Iterable[can.Message], speed: float) -> Iterator[can.Message]:
    """Divide timestamps by ``speed`` so MessageSync plays ``speed`` times faster."""
    for m in messages:
        m.timestamp = m.timestamp / speed
        yield m


def add_parser(sub) -> None:
    p = sub.add_parser("replay", help="replay a CAN log (candump .log, .asc, .blf, .csv, .trc, ...) onto a bus",
                       description="Replay any log python-can reads onto a bus, keeping the original "
                                   "timing (can.LogReader + can.MessageSync).")
    p.add_argument("log", help="log file")
    p.add_argument("--speed", type=float, default=1.0, help="time factor: 2 = twice as fast (default 1)")
    p.add_argument("--loop", action="store_true", help="start again at the end")
    p.add_argument("--skip-gap", type=float, default=60.0, help="shorten pauses longer than this (s)")
    add_bus_args(p)
    p.set_defaults(run=run)


def replay(log: Path, bus: can.BusABC, speed: float = 1.0, skip_gap: float = 60.0,
           progress=None) -> dict:
    """Send every frame of ``log`` to ``bus``; returns counts."""
    counts = {"sent": 0, "send_errors": 0}
    start = time.monotonic()
    try:
        reader = can.LogReader(log)
    except (ValueError, NotImplementedError) as e:
        raise UserError(f"{log}: cannot read this log format ({e}); "
                        "python-can reads .asc .blf .csv .db .log .mf4 .trc") from None
    with reader:
        try:
            for msg in can.MessageSync(scaled(reader, speed), timestamps=True, skip=skip_gap / speed):
                try:
                    bus.send(msg)
                    counts["sent"] += 1
                except can.CanError:
                    counts["send_errors"] += 1
                if progress and counts["sent"] % 5000 == 0:
                    progress(counts, time.monotonic() - start)
        except (ValueError, IndexError) as e:
            raise UserError(f"{log}: malformed log after {counts['sent']} frames: {e}") from None
    counts["seconds"] = round(time.monotonic() - start, 3)
    return counts


def run(args: argparse.Namespace) -> int:
    log = Path(args.log)
    if not log.is_file():
        raise UserError(f"{log}: no such log file")
    if args.speed <= 0:
        raise UserError("--speed must be > 0")
    cfg = bus_config(args)
    if cfg.interface == "virtual":
        print("note: python-can's virtual bus exists only inside one process: no other process (assistant "
              "monitor, chat) sees the frames replayed here. To read this recording, use assistant "
              f"monitor|ask|chat --log {log}; for two processes, use a vcan0 bus.", file=sys.stderr, flush=True)
    bus = open_bus(cfg)
    try:
        while True:
            print(f"replaying {log} on {cfg.describe()} at {args.speed:g}x", flush=True)
            counts = replay(log, bus, args.speed, args.skip_gap,
                            progress=lambda c, s: print(f"  {c['sent']} frames, {s:.1f} s", flush=True))
            print(f"done: {counts['sent']} frames in {counts['seconds']} s"
                  + (f", {counts['send_errors']} send errors" if counts["send_errors"] else ""), flush=True)
            if not args.loop:
                break
    except KeyboardInterrupt:
        pass
    finally:
        bus.shutdown()
    return 0
