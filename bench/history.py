#!/usr/bin/env python3
"""Vehicle history benchmark: detection delay, false alarms, database size, write cost.

1. **Detection delay**: each fault of ``assistant/history/evaluate.py`` (a rear tyre losing
   9 kPa a day, the 12 V resting voltage falling 0.04 V a day, coolant 12 °C above its usual,
   consumption 40 % above, fuel lost while parked) simulated over ``--seeds`` seeded histories;
   the detectors are run every ``--step-h`` hours of history from the onset; the delay is the
   time to the first detection (median and worst), beside the bound the tests hold it to.
2. **False alarms per simulated month**: ``--months`` months of normal driving (noise, daily
   and day-to-day temperature swings, parking), every detector every ``--step-h`` hours: the
   findings raised (the target is 0).
3. **Database size per month**: the file after a month of normal driving (two drives a day,
   one sample per signal per minute, the events), after a checkpoint.
4. **Write cost per frame**: the recorder (the real :class:`~assistant.history.recorder.Recorder`
   writing into a real file, polling every 0.5 s, flushing every 2 s) over an hour of driving
   on the demo car, its CPU time divided by the frames the demo bus carries in that hour, as
   a ratio against the cost of decoding one of those frames with cantools
   (``Message.decode``), measured in the same run on the same frames; and the same per frame of
   a real car's bus (the frame rate of the RAV4 recording in ../shared/realworld: the recorder's
   cost is per second of driving, not per frame, so a busier bus divides it further).

    .venv/bin/python bench/history.py            # table
    .venv/bin/python bench/history.py --json     # machine-readable
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from assistant.can.profile import load_profile  # noqa: E402
from assistant.history import evaluate as E  # noqa: E402
from assistant.history.recorder import Recorder  # noqa: E402
from assistant.history.store import HistoryStore  # noqa: E402
from assistant.sim.scenario import load_scenario  # noqa: E402
from assistant.state.store import VehicleState  # noqa: E402


def detection(seeds: int, step_h: float) -> list[dict]:
    t_end = time.time()
    out = []
    for fault in E.FAULTS:
        delays, false = [], 0
        for seed in range(seeds):
            with tempfile.TemporaryDirectory() as d:
                delay, _, f = E.detection_delay(fault, seed=seed, step_h=step_h, t_end=t_end, directory=d)
            false += f
            delays.append(delay)
        found = [x for x in delays if x is not None]
        out.append({"fault": fault.kind, "what": fault.what, "found": f"{len(found)}/{seeds}",
                    "median_h": statistics.median(found) if found else None, "worst_h": max(found) if found else None,
                    "bound_h": fault.bound_h, "false_before_onset": false})
    return out


def false_alarms(months: int, step_h: float) -> dict:
    t_end = time.time()
    hits = evaluations = 0
    kinds: dict[str, int] = {}
    for seed in range(months):
        with tempfile.TemporaryDirectory() as d:
            h, n, found = E.false_alarms(30, seed=100 + seed, step_h=step_h, t_end=t_end, directory=d)
        hits += h
        evaluations += n
        for i in found:
            kinds[i.kind] = kinds.get(i.kind, 0) + 1
    return {"months": months, "evaluations": evaluations, "evaluations_with_a_finding": hits,
            "false_alarms_per_month": hits / months, "kinds": kinds}


def size_per_month() -> dict:
    with tempfile.TemporaryDirectory() as d:
        sc = load_scenario("normal_drive")
        store = E.simulate({"days": 30, "seed": 1, "drives": {"per_day": 2, "minutes": 35, "speed_kmh": 60}},
                           time.time(), d, now_values=dict(sc.signals))
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s = store.summary()
        rows = sum(x.count for x in s.signals) + sum(s.events.values())
        size = store.size_bytes()
        store.close()
    return {"bytes": size, "MiB": round(size / 2 ** 20, 2), "rows": rows, "bytes_per_row": round(size / rows, 1),
            "years_in_64_MiB": round(64 * 2 ** 20 / size / 12, 1)}


def write_cost(seconds: float = 3600.0) -> dict:
    profile = load_profile("demo")
    sc = load_scenario("normal_drive")
    frames = [(profile.db.get_message_by_name(name), fr) for name, frs in profile.encode(dict(sc.signals)).items()
              for fr in frs]
    per_s = sum(1.0 / profile.cycle_time(m.name) for m, _ in frames)    # the demo bus's frame rate
    # baseline: cantools decode of the same frames
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 1.0:
        for m, fr in frames:
            m.decode(fr[2], decode_choices=False)
            n += 1
    decode_s = (time.perf_counter() - t0) / n
    # the recorder over an hour of driving, on a simulated clock, writing a real file
    st = VehicleState({}, default_stale_after=5.0)
    st.capabilities = list(profile.capabilities)
    values = {k: v for k, v in sc.signals.items()}
    with tempfile.TemporaryDirectory() as d:
        store = HistoryStore(Path(d) / "history.sqlite")
        wall = [time.time()]
        rec = Recorder(st, store, clock=lambda: wall[0], poll_s=0.5, flush_s=2.0)
        spent = 0.0
        polls = int(seconds / rec.poll_s)
        for i in range(polls):
            wall[0] += rec.poll_s
            t = st.clock()
            for k, v in values.items():                    # the decoder's work, outside the timing
                st.update(k, v + (i % 5) * 0.1 if isinstance(v, float) else v, t, "bench")
            a = time.perf_counter()
            rec.poll()
            spent += time.perf_counter() - a
        a = time.perf_counter()
        rec.flush()
        spent += time.perf_counter() - a
        store.close()
    frames_in = per_s * seconds
    per_frame = spent / frames_in
    out = {"bus_frames_per_s": round(per_s, 1), "simulated_s": seconds, "recorder_cpu_s": round(spent, 3),
           "cpu_share_of_one_core": round(spent / seconds, 6),
           "rows_written": rec.rows_written, "recorder_us_per_frame": round(per_frame * 1e6, 3),
           "decode_us_per_frame": round(decode_s * 1e6, 2), "ratio_to_decode": round(per_frame / decode_s, 4)}
    real = real_bus_rate()
    if real:
        out["real_bus"] = real
        out["real_recorder_us_per_frame"] = round(spent / (real["frames_per_s"] * seconds) * 1e6, 4)
        out["real_ratio_to_decode"] = round(spent / (real["frames_per_s"] * seconds) / decode_s, 5)
    return out


RAV4_LOG = ROOT.parent / "shared" / "realworld" / "logs" / "toyota_rav4_2017_comma2k19_bus0.log"


def real_bus_rate() -> dict | None:
    """Frames per second on a real car's bus: the RAV4 recording (../shared/realworld)."""
    if not RAV4_LOG.exists():
        return None
    import can
    n, first, last = 0, None, None
    for msg in can.LogReader(str(RAV4_LOG)):
        n += 1
        first = msg.timestamp if first is None else first
        last = msg.timestamp
    if not n or last <= first:
        return None
    return {"log": RAV4_LOG.name, "frames": n, "seconds": round(last - first, 1), "frames_per_s": round(n / (last - first))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeded histories per fault (default 5)")
    ap.add_argument("--months", type=int, default=6, help="simulated months of normal driving (default 6)")
    ap.add_argument("--step-h", type=float, default=3.0, help="hours of history between detector runs (default 3)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    res = {"detection": detection(args.seeds, args.step_h), "false_alarms": false_alarms(args.months, args.step_h * 2),
           "size_per_month": size_per_month(), "write_cost": write_cost()}
    if args.json:
        print(json.dumps(res, indent=1))
        return 0
    print("detection delay after onset (hours of history; detectors every "
          f"{args.step_h:g} h, {args.seeds} seeds):")
    print(f"  {'fault':<18} {'found':>5} {'median':>7} {'worst':>6} {'bound':>6}  before onset")
    for d in res["detection"]:
        f = lambda x: "-" if x is None else f"{x:.0f}"  # noqa: E731
        print(f"  {d['fault']:<18} {d['found']:>5} {f(d['median_h']):>7} {f(d['worst_h']):>6} {d['bound_h']:>6.0f}  "
              f"{d['false_before_onset']} alarms   ({d['what']})")
    fa = res["false_alarms"]
    print(f"false alarms per simulated month of normal driving: {fa['false_alarms_per_month']:.2f} "
          f"({fa['evaluations_with_a_finding']} of {fa['evaluations']} detector runs over {fa['months']} months)")
    sz = res["size_per_month"]
    print(f"database size per month: {sz['MiB']} MiB ({sz['rows']} rows, {sz['bytes_per_row']} B/row; "
          f"64 MiB bound = {sz['years_in_64_MiB']} years)")
    wc = res["write_cost"]
    print(f"write cost per frame: {wc['recorder_us_per_frame']} us (recorder {wc['recorder_cpu_s']} s CPU for "
          f"{wc['simulated_s']:.0f} s of driving, {wc['cpu_share_of_one_core']:.3%} of a core; demo bus "
          f"{wc['bus_frames_per_s']} frames/s) = "
          f"{wc['ratio_to_decode']:.2%} of a cantools decode ({wc['decode_us_per_frame']} us/frame, same run)")
    if "real_bus" in wc:
        print(f"  on a real car's bus ({wc['real_bus']['log']}: {wc['real_bus']['frames_per_s']} frames/s): "
              f"{wc['real_recorder_us_per_frame']} us per frame = {wc['real_ratio_to_decode']:.3%} of a decode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
