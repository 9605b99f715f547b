"""The history file survives the car: kill -9 at any moment leaves a database that opens and
passes ``PRAGMA integrity_check`` with at most the last flush lost; a corrupt file is set aside
and reported, never a crash; size stays bounded; the recorder keeps what docs/history.md says
(one sample per signal per minute while driving, engine start/stop with the dip, lamp changes,
never a stale value); ``assistant history`` shows and exports it."""

from __future__ import annotations

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from assistant.history.recorder import Recorder
from assistant.history.store import DAY, Event, HistoryStore
from assistant.state.store import VehicleState

from .conftest import ROOT, run_cli

SPEED = "Vehicle.Speed"
VOLT = "Vehicle.LowVoltageBattery.CurrentVoltage"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
LAMP = "Vehicle.Telltale.LowFuel"

# A writer as the head unit runs it: the real Recorder over a live VehicleState, flushing every
# 0.25 s, printing the newest sample time of each committed flush.
WRITER = textwrap.dedent("""
    import sys, time
    from assistant.history.recorder import Recorder
    from assistant.history.store import HistoryStore
    from assistant.state.store import VehicleState
    st = VehicleState({}, default_stale_after=60.0)
    st.capabilities = ["Vehicle.Speed", "Vehicle.LowVoltageBattery.CurrentVoltage",
                       "Vehicle.Powertrain.FuelSystem.RelativeLevel"]
    store = HistoryStore(sys.argv[1])
    rec = Recorder(st, store, driving_interval_s=0.0, flush_s=0.25)
    print("open", flush=True)
    i = 0
    while True:
        i += 1
        t = st.clock()
        for n, v in (("Vehicle.Speed", 50 + i % 7), ("Vehicle.LowVoltageBattery.CurrentVoltage", 14.0),
                     ("Vehicle.Powertrain.FuelSystem.RelativeLevel", 60 - i * 1e-4)):
            st.update(n, v, t, "test")
        before = rec.rows_written
        now = time.time()
        rec.poll(now)
        if rec.rows_written != before:
            print(f"{now:.6f}", flush=True)
        time.sleep(0.01)
""")


def test_kill_9_in_a_loop_leaves_a_sound_database_with_at_most_the_last_flush_lost(tmp_path):
    path = tmp_path / "history.sqlite"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(14)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kills = 0
    for _ in range(20):
        p = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True, env=env)
        assert p.stdout.readline().strip() == "open"
        time.sleep(rng.uniform(0.05, 0.9))             # a random moment: mid-batch, mid-commit, idle
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        kills += 1
        committed = [float(x) for x in p.stdout.read().split()]
        p.stdout.close()
        with HistoryStore(path) as store:              # opens: no exception, nothing set aside
            assert store.problem is None, store.problem
            assert store.integrity() == "ok"
            last = max((t for t, _ in store.samples(SPEED)), default=None)
        if committed:
            # everything the writer saw committed is there; what is lost is at most the unflushed
            # batch (flush_s = 0.25 s: "the last few seconds")
            assert last is not None and last >= committed[-1] - 1e-6
        con = sqlite3.connect(path)
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        con.close()
    assert kills == 20
    with HistoryStore(path) as store:
        times = [t for t, _ in store.samples(SPEED)]
        assert len(times) > 100 and times == sorted(times)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "header"])
def test_a_corrupt_file_is_set_aside_and_reported_and_a_new_history_starts(tmp_path, damage):
    path = tmp_path / "history.sqlite"
    if damage == "garbage":
        path.write_bytes(b"this is not a database at all\n" * 100)
    else:
        with HistoryStore(path) as s:
            s.write([(SPEED, 1000.0 + i, 50.0) for i in range(5000)])
        raw = path.read_bytes()
        path.write_bytes(raw[:len(raw) // 3] if damage == "truncated" else b"\x00" * 100 + raw[100:])
    broken = path.read_bytes()
    store = HistoryStore(path)
    try:
        assert store.problem and "moved to" in store.problem and str(path) in store.problem
        assert store.set_aside is not None and store.set_aside.read_bytes() == broken   # kept for a look
        assert store.integrity() == "ok" and store.span() == (None, None)
        store.write([(SPEED, 5.0, 1.0)])                                                 # records again
        assert store.samples(SPEED) == [(5.0, 1.0)]
    finally:
        store.close()


def test_ask_on_a_corrupt_history_still_answers_from_live_data(tmp_path):
    (tmp_path / "history.sqlite").write_bytes(b"\x13garbage" * 500)
    r = run_cli("ask", "--no-model", "--scenario", "low_fuel", "--data-dir", str(tmp_path), "how far can I go?")
    assert r.returncode == 0, r.stderr
    assert "48 km" in r.stdout
    assert "could not be used" in r.stderr                 # reported, once, as a warning
    assert list(tmp_path.glob("history.sqlite.corrupt-*"))


def test_retention_and_size_bound(tmp_path):
    now = 1_800_000_000.0
    store = HistoryStore(tmp_path / "h.sqlite", retention_days=30, max_bytes=600_000)
    try:
        rows = [(f"Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure", now - 60 * DAY + i * 60.0, 240.0 + i % 5)
                for i in range(60 * 24 * 60)]                       # 60 days, one a minute
        store.write(rows, [Event(now - 50 * DAY, "engine_start", VOLT, 10.2)])
        assert store.size_bytes(live=True) > 600_000
        store.enforce_limits(now)
        first, last = store.span()
        assert first >= now - 30 * DAY                               # retention
        assert store.size_bytes(live=True) <= 600_000                # the oldest days went first
        assert last == rows[-1][1]                                   # the newest stay
        assert store.integrity() == "ok"
    finally:
        store.close()


class _Clock:
    def __init__(self, t=1_800_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_recorder_samples_per_minute_while_driving_and_records_starts_stops_and_lamps(tmp_path):
    mono = _Clock(100.0)
    st = VehicleState({}, default_stale_after=5.0, clock=mono)
    st.capabilities = [SPEED, VOLT, FUEL, LAMP]
    store = HistoryStore(tmp_path / "h.sqlite")
    wall = _Clock()
    rec = Recorder(st, store, clock=wall, poll_s=0.5)

    def tick(seconds, **values):
        for _ in range(int(seconds / 0.5)):
            mono.t += 0.5
            wall.t += 0.5
            for n, v in values.items():
                st.update({"speed": SPEED, "volt": VOLT, "fuel": FUEL, "lamp": LAMP}[n], v, mono.t, "t")
            rec.poll()

    tick(5, speed=0, volt=12.6, fuel=40, lamp="OFF")             # parked, engine off: a wake at 12.6 V
    tick(1, speed=0, volt=9.8, fuel=40, lamp="OFF")              # cranking
    tick(10 * 60, speed=60, volt=14.1, fuel=40, lamp="OFF")      # ten minutes' drive
    tick(2, speed=60, volt=14.1, fuel=40, lamp="ON")             # the low fuel lamp comes on
    tick(3, speed=0, volt=12.5, fuel=39, lamp="ON")              # engine off
    tick(20)                                                     # the bus goes quiet: stale
    rec.flush()
    ev = store.events()
    kinds = [e.kind for e in ev]
    assert kinds.count("wake") == 1 and ev[0].kind == "wake" and ev[0].value == pytest.approx(12.6)
    start = next(e for e in ev if e.kind == "engine_start")
    assert start.value == pytest.approx(9.8)                     # the dip while cranking
    assert kinds.count("engine_stop") == 1
    assert [(e.name, e.text) for e in ev if e.kind == "lamp"] == [("LowFuel", "OFF"), ("LowFuel", "ON")]
    speeds = store.samples(SPEED)
    driving = [t for t, v in speeds if v > 1]
    gaps = [b - a for a, b in zip(driving, driving[1:])]
    assert 10 <= len(driving) <= 13 and all(g >= 59.5 for g in gaps)   # one a minute, plus the start/stop
    last_fresh = wall.t - 20
    assert all(t <= last_fresh + 0.5 for t, _ in speeds)         # nothing recorded once stale
    store.close()


def test_history_command_shows_signals_span_size_and_exports_csv(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite") as s:
        s.write([(SPEED, 1_800_000_000.0 + i * 60, 50.0 + i) for i in range(10)] +
                [(FUEL, 1_800_000_000.0 + i * 60, 60.0) for i in range(10)],
                [Event(1_800_000_000.0, "engine_start", VOLT, 10.1)])
    r = run_cli("history", "--data-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert SPEED in r.stdout and FUEL in r.stdout and "span:" in r.stdout and "size:" in r.stdout
    assert "engine_start 1" in r.stdout
    out = tmp_path / "x.csv"
    r = run_cli("history", "--data-dir", str(tmp_path), "--csv", str(out))
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["time_utc", "unix_time", "kind", "signal", "value", "text"] and len(rows) == 22
    assert ["sample", SPEED, "59"] == [rows[-2][2], rows[-2][3], rows[-2][4]] or \
        ["sample", SPEED, "59"] == [rows[-1][2], rows[-1][3], rows[-1][4]]


def test_history_command_errors_are_one_clear_line(tmp_path):
    r = run_cli("history", "--data-dir", str(tmp_path / "nothing"))
    assert r.returncode == 2 and r.stderr.startswith("error: no vehicle history at") and r.stderr.count("\n") == 1
    bad = tmp_path / "bad.sqlite"
    bad.write_bytes(b"nope" * 1000)
    r = run_cli("history", "--file", str(bad))
    assert r.returncode == 2 and "not a readable history database" in r.stderr
    assert bad.read_bytes() == b"nope" * 1000                     # `history` only reads: nothing moved
    r = run_cli("history", "--help")
    assert r.returncode == 0 and "--csv" in r.stdout
