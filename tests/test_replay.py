"""Replaying real recordings: through the reader with a Toyota profile, onto a bus with
original timing, and from other log formats python-can writes."""

import tempfile
import time

import can
import pytest

from assistant.can.bus import BusConfig
from assistant.can.profile import load_profile
from assistant.can.reader import BusReader, FrameDecoder
from assistant.commands.replay import replay
from assistant.state.store import VehicleState

from .conftest import RAV4_LOG, SAVVY_LOG, run_cli

pytestmark = pytest.mark.skipif(not RAV4_LOG.exists(), reason=f"{RAV4_LOG} not present (../shared/realworld)")


def test_rav4_recording_decodes_through_the_reader_with_zero_crashes():
    p = load_profile("toyota_rav4")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    with can.LogReader(RAV4_LOG) as reader:
        for msg in reader:
            dec.on_message_received(msg)
    c = dec.counts
    assert c["frames"] == 53800
    assert c["decoded"] > 2000 and c["undecodable"] == 0 and c["short_dlc"] == 0
    assert c["decoded"] + c["unknown_id"] == 53800
    speeds = [v for _, v in st.history("Vehicle.Speed")]
    assert len(speeds) > 30 and max(speeds) > 10          # a real drive: the speed moves
    odo = st.get("Vehicle.TraveledDistance")
    assert odo.value and odo.value > 20000                 # km, from the cluster's miles


def test_replay_onto_a_bus_keeps_timing_and_feeds_the_reader(channel):
    """The first 4 s of the drive replayed at 4x onto a virtual bus, read back by the BusReader."""
    p = load_profile("toyota_rav4")
    st = VehicleState.for_profile(p)
    lines = []
    with open(RAV4_LOG) as f:
        first_t = None
        for line in f:
            t = float(line[1:line.index(")")])
            first_t = first_t if first_t is not None else t
            if t - first_t > 4.0:
                break
            lines.append(line)
    with tempfile.TemporaryDirectory() as d:
        short = f"{d}/first4s.log"
        with open(short, "w") as f:
            f.writelines(lines)
        with BusReader(BusConfig(interface="virtual", channel=channel), p, st) as reader:
            assert reader.connected.wait(2)
            tx = can.Bus(interface="virtual", channel=channel)
            t0 = time.monotonic()
            counts = replay(short, tx, speed=4.0)
            elapsed = time.monotonic() - t0
            tx.shutdown()
            time.sleep(0.2)
    assert counts["sent"] == len(lines)
    assert 0.8 < elapsed < 2.5, elapsed           # 4 s of traffic at 4x: about 1 s, not instant
    assert reader.counts["frames"] > 0 and reader.counts["undecodable"] == 0
    assert st.get("Vehicle.Speed").value is not None


@pytest.mark.parametrize("suffix", [".asc", ".blf", ".csv"])
def test_other_log_formats_replay(tmp_path, suffix, channel):
    path = tmp_path / f"slice{suffix}"
    with can.LogReader(RAV4_LOG) as reader, can.Logger(path) as logger:
        for i, msg in enumerate(reader):
            logger.on_message_received(msg)
            if i >= 300:
                break
    sniffer = can.Bus(interface="virtual", channel=channel)
    tx = can.Bus(interface="virtual", channel=channel)
    counts = replay(path, tx, speed=100.0)
    tx.shutdown()
    got = 0
    while sniffer.recv(timeout=0.05) is not None:
        got += 1
    sniffer.shutdown()
    assert counts["sent"] == 301 and got == 301


def test_unknown_vehicle_recording_is_counted_never_fatal():
    """SavvyCAN's recording of an unknown car read with the demo profile: every frame counted."""
    p = load_profile("demo")
    dec = FrameDecoder(p, VehicleState.for_profile(p))
    with can.LogReader(SAVVY_LOG) as reader:
        for msg in reader:
            dec.on_message_received(msg)
    c = dec.counts
    assert c["frames"] == 12974
    assert c["decoded"] + c["unknown_id"] + c["short_dlc"] + c["undecodable"] + c["error_or_remote"] == 12974


def test_replay_cli_errors(tmp_path):
    r = run_cli("replay", str(tmp_path / "nope.log"), "--interface", "virtual")
    assert r.returncode == 2 and "no such log file" in r.stderr
    bad = tmp_path / "weird.xyz"
    bad.write_text("hello")
    r = run_cli("replay", str(bad), "--interface", "virtual")
    assert r.returncode == 2 and "cannot read this log format" in r.stderr and "Traceback" not in r.stderr
    broken = tmp_path / "broken.log"
    broken.write_text("(1.0) vcan0 123#11\nthis is not candump\n")
    r = run_cli("replay", str(broken), "--interface", "virtual", "--speed", "100")
    assert r.returncode == 2 and "malformed log" in r.stderr and "Traceback" not in r.stderr
