"""``assistant history``: what the vehicle history holds (signals, time span, size), and a CSV
export of it."""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("history", help="show the recorded vehicle history; export it as CSV",
                       description="Show what the vehicle history (history.sqlite) holds: each signal with its "
                                   "number of samples and time span, the events (engine starts and stops, lamp "
                                   "changes), the file's size; --csv exports every sample and event. The file "
                                   "is only read. See docs/history.md.")
    p.add_argument("--data-dir", metavar="DIR",
                   help="folder holding history.sqlite (default $ASSISTANT_DATA_DIR, else ~/.local/share/assistant)")
    p.add_argument("--file", metavar="PATH", help="a history.sqlite file to read instead")
    p.add_argument("--csv", metavar="FILE", help="export every sample and event as CSV to FILE ('-': standard output)")
    p.add_argument("--insights", action="store_true", help="also run the trend detectors and list what they find")
    p.set_defaults(run=run)


def _when(t: float | None) -> str:
    return "-" if t is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(t))


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)  # pragma: no cover


def run(args: argparse.Namespace) -> int:
    from assistant import history
    from assistant.errors import UserError
    from assistant.history.store import HistoryStore
    path = Path(args.file) if args.file else history.history_path(args.data_dir)
    if not path.exists():
        raise UserError(f"no vehicle history at {path} (it is written by 'assistant chat', 'ask' and 'serve' on "
                        "a live bus; --data-dir or $ASSISTANT_DATA_DIR point at another folder)")
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a history file")
    try:
        store = HistoryStore(path, readonly=True)
    except sqlite3.Error as e:
        raise UserError(f"{path}: not a readable history database ({e}); the assistant sets such a file aside "
                        "and starts a new one the next time it records") from None
    try:
        if args.csv:
            if args.csv == "-":
                n = store.export_csv(sys.stdout)
            else:
                try:
                    with open(args.csv, "w", newline="", encoding="utf-8") as f:
                        n = store.export_csv(f)
                except OSError as e:
                    raise UserError(f"cannot write {args.csv}: {e.strerror or e}") from None
                print(f"wrote {n} rows to {args.csv}", file=sys.stderr)
            return 0
        s = store.summary()
        print(f"history: {s.path}")
        print(f"size: {_size(s.size_bytes)}")
        if s.first is None:
            print("empty: nothing recorded yet")
            return 0
        print(f"span: {_when(s.first)} to {_when(s.last)} ({s.span_days:.1f} days)")
        width = max(len(x.name) for x in s.signals) if s.signals else 10
        if s.signals:
            print(f"\n{'signal':<{width}}  {'samples':>8}  first             last")
            for x in s.signals:
                print(f"{x.name:<{width}}  {x.count:>8}  {_when(x.first)}  {_when(x.last)}")
        if s.events:
            print("\nevents: " + ", ".join(f"{k} {v}" for k, v in sorted(s.events.items())))
        if args.insights:
            from assistant.history.detectors import detect
            found = [i for about in ("tyres", "battery", "engine", "consumption", "service", "fuel")
                     for i in detect(store, about)]
            print("\ninsights:" if found else "\ninsights: none")
            for i in found:
                ev = ", ".join(f"{e.name} {e.value:g}{' ' + e.unit if e.unit else ''}" for e in i.evidence)
                print(f"  {i.kind}{' ' + i.subject if i.subject else ''} (confidence {i.confidence:.2f}"
                      f"{'' if i.notable else ', nothing to act on yet'}): {ev}")
    finally:
        store.close()
    return 0
