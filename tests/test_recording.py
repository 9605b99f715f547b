"""``--log FILE``: a real recording read through the same decoder and state, no vcan needed.

Values are checked against cantools' own decode of the same frames of the real RAV4 recording.
"""

from __future__ import annotations

import json
import time

import can
import cantools
import pytest

from assistant.can.profile import load_profile
from assistant.recording import RecordedVehicle, RecordingError

from .conftest import RAV4_LOG, run_cli

pytestmark = pytest.mark.skipif(not RAV4_LOG.is_file(), reason=f"needs the real recording {RAV4_LOG}")


def cantools_speed_at(seconds: float) -> float:
    """The last SPEED frame at or before ``seconds`` into the recording, decoded by cantools alone."""
    prof = load_profile("toyota_rav4")
    db = cantools.database.load_file(str(prof.dbc_path), strict=False)   # cantools alone, not our loader
    msg = db.get_message_by_name("SPEED")
    frames = list(can.LogReader(str(RAV4_LOG)))
    t0 = min(m.timestamp for m in frames)
    last = None
    for m in frames:
        if m.arbitration_id == msg.frame_id and m.timestamp <= t0 + seconds:
            last = m
    return msg.decode(last.data)["SPEED"]


@pytest.mark.parametrize("at", [5.0, 30.0, 55.0])
def test_state_at_a_moment_matches_cantools(at):
    rec = RecordedVehicle(RAV4_LOG, "toyota_rav4", at=at).start()
    speed = rec.state.get("Vehicle.Speed")
    assert speed.status == "ok"
    assert speed.value == pytest.approx(cantools_speed_at(at), abs=0.01)
    assert speed.age < speed.stale_after                     # ages are in the recording's time
    assert rec.decoder.counts["decoded"] > 0


def test_ask_at_30_s_answers_the_speed_cantools_decodes():
    r = run_cli("ask", "--no-model", "--json", "--log", str(RAV4_LOG), "--profile", "toyota_rav4", "--at", "30",
                "how fast am I going?")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    want = round(cantools_speed_at(30.0))
    assert f"{want} km/h" in out["answer"], out["answer"]
    assert [t["name"] for t in out["tools"]] == ["read_signal"]


def test_monitor_once_at_a_time_shows_the_recording_position():
    r = run_cli("monitor", "--log", str(RAV4_LOG), "--profile", "toyota_rav4", "--at", "30", "--json")
    assert r.returncode == 0, r.stderr
    snap = json.loads(r.stdout)
    assert snap["bus"].startswith("log toyota_rav4_2017_comma2k19_bus0.log at 30.0 s")
    assert snap["signals"]["Vehicle.Speed"]["value"] == pytest.approx(cantools_speed_at(30.0), abs=0.01)


def test_playing_faster_than_real_time_keeps_the_recordings_clock():
    with RecordedVehicle(RAV4_LOG, "toyota_rav4", speed=50.0) as rec:
        assert rec.wait_for(["Vehicle.Speed"], 5.0)
        time.sleep(0.3)
        pos = rec.position()
        speed = rec.state.get("Vehicle.Speed")
    assert pos > 10                                          # ~50x real time
    assert speed.status == "ok" and speed.age < speed.stale_after


def test_chat_reads_a_recording():
    r = run_cli("chat", "--no-model", "--no-alerts", "--log", str(RAV4_LOG), "--profile", "toyota_rav4",
                "--speed", "20", input="how fast am I going?\nquit\n")
    assert r.returncode == 0, r.stderr
    assert "km/h" in r.stdout


@pytest.mark.parametrize("args, says", [
    (["--log", "/nonexistent.log"], "no such log file"),
    (["--log", str(RAV4_LOG), "--profile", "toyota_rav4", "--at", "999"], "past the end"),
    (["--log", str(RAV4_LOG), "--scenario", "low_fuel"], "give one"),
    (["--scenario", "low_fuel", "--at", "3"], "--at needs --log"),
])
def test_bad_recording_arguments_are_one_clear_error(args, says):
    r = run_cli("ask", "--no-model", *args, "how fast am I going?")
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_file_python_can_cannot_read_is_named(tmp_path):
    bad = tmp_path / "drive.txt"
    bad.write_text("not a log\n")
    with pytest.raises(RecordingError, match="cannot read this log format"):
        RecordedVehicle(bad)
    broken = tmp_path / "drive.log"
    broken.write_text("(1.0) can0 123#00\nthis line is garbage\n")
    with pytest.raises(RecordingError, match=str(broken)):
        RecordedVehicle(broken, at="end").start()       # the bad line is met when the log is read


def test_replay_on_the_virtual_bus_says_it_is_per_process():
    r = run_cli("replay", str(RAV4_LOG), "--interface", "virtual", "--channel", "x", "--speed", "1000")
    assert r.returncode == 0, r.stderr
    assert "exists only inside one process" in r.stderr and "--log" in r.stderr
