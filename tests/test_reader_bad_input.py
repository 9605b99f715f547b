"""Bad frames are counted, the state is unchanged, no exception escapes; the bus reader
recovers from a vanished interface and never transmits."""

import logging
import time
from pathlib import Path

import can
import pytest

from assistant.sim.scenario import Scenario, load_scenario
from assistant.sim.simulator import Simulator
from assistant.can.bus import BusConfig
from assistant.can.profile import load_profile
from assistant.can.reader import BusReader, FrameDecoder
from assistant.state.store import VehicleState

FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"


@pytest.fixture
def decoder():
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    d = FrameDecoder(p, st, log_interval=60)
    # One good frame first, so "state unchanged" is meaningful.
    (fid, ext, data), = p.encode({FUEL: 40.0})["FuelStatus"]
    d.on_message_received(can.Message(arbitration_id=fid, is_extended_id=ext, data=data, timestamp=time.time()))
    assert st.get(FUEL).value == 40.0
    return d


def frame(fid, data, ext=False, **kw):
    return can.Message(arbitration_id=fid, is_extended_id=ext, data=data, timestamp=time.time(), **kw)


def test_unknown_ids_are_counted(decoder):
    before = decoder.state.updates
    decoder.on_message_received(frame(0x7FF, b"\x01\x02"))
    decoder.on_message_received(frame(0x350, bytes(8), ext=True))   # right number, wrong id type
    assert decoder.counts["unknown_id"] == 2
    assert decoder.state.updates == before


def test_unknown_ids_and_error_frames_are_logged_at_a_bounded_rate(decoder, caplog):
    with caplog.at_level(logging.WARNING, logger="assistant.can.reader"):
        for i in range(20_000):
            decoder.on_message_received(frame(0x100 + i % 50, bytes(8)))
        for _ in range(300):
            decoder.on_message_received(can.Message(is_error_frame=True, timestamp=time.time()))
        decoder.on_message_received(frame(0x350, b"", is_remote_frame=True))
    msgs = [r.getMessage() for r in caplog.records]
    unknown = [m for m in msgs if "not an id of profile demo" in m]
    errors = [m for m in msgs if "error frame" in m or "remote frame" in m]
    assert len(unknown) == 1 and "frame 0x100 (standard id)" in unknown[0], msgs
    assert len(errors) == 1, msgs
    assert decoder.counts["unknown_id"] == 20_000 and decoder.counts["error_or_remote"] == 301


def test_unknown_ids_are_logged_again_once_the_interval_has_passed(decoder, caplog):
    decoder._warn._interval = 0.05
    with caplog.at_level(logging.WARNING, logger="assistant.can.reader"):
        t_end = time.monotonic() + 0.5
        while time.monotonic() < t_end:             # a steady stream of unknown frames
            for _ in range(100):
                decoder.on_message_received(frame(0x7AB, bytes(8)))
    logged = [r.getMessage() for r in caplog.records if "0x7AB" in r.getMessage()]
    assert 3 <= len(logged) <= 11, len(logged)      # every ~0.05 s (up to 4096 frames later), not per frame
    n = int(logged[-1].split("(")[-1].split()[0])  # "... (N such frames so far)"
    assert 0 < n <= decoder.counts["unknown_id"]


def test_frames_longer_than_the_dbc_are_counted_logged_and_decoded(decoder, caplog):
    (fid, ext, data), = decoder.profile.encode({FUEL: 55.0})["FuelStatus"]
    with caplog.at_level(logging.WARNING, logger="assistant.can.reader"):
        for _ in range(20):        # a CAN FD frame (12 bytes) for an 8-byte classic message
            decoder.on_message_received(frame(fid, data + b"\xAA" * 4, ext=ext, is_fd=True))
    assert decoder.counts["long_dlc"] == 20
    assert decoder.state.get(FUEL).value == 55.0 and decoder.state.get(FUEL).fresh
    logged = [r.getMessage() for r in caplog.records if "0x350" in r.getMessage()]
    assert len(logged) == 1 and "12 data bytes, DBC says 8; decoded from the first 8" in logged[0]


def test_short_dlc_is_counted_and_logged_at_a_bounded_rate(decoder, caplog):
    before = decoder.state.updates
    with caplog.at_level(logging.WARNING, logger="assistant.can.reader"):
        for _ in range(50):
            decoder.on_message_received(frame(0x350, b"\x10\x20"))
    assert decoder.counts["short_dlc"] == 50
    assert decoder.state.updates == before
    assert decoder.state.get(FUEL).value == 40.0
    assert len([r for r in caplog.records if "0x350" in r.getMessage()]) == 1   # rate limited


def test_unknown_mux_value_is_counted(decoder):
    before = decoder.state.updates
    decoder.on_message_received(frame(0x18FECA10, bytes([0x55, 1, 3, 1, 0, 0, 0, 0]), ext=True))
    assert decoder.counts["undecodable"] == 1
    assert decoder.state.updates == before
    assert decoder.state.get("Vehicle.Diagnostics.DTCList").status == "missing"


def test_garbage_bytes_never_raise(decoder):
    import random
    rnd = random.Random(7)
    ids = list(decoder.profile.codecs) + [0x123, 0x7FF, 0x1FFFFFFF]
    for _ in range(3000):
        fid = rnd.choice(ids)
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 8)))
        decoder.on_message_received(frame(fid, data, ext=fid > 0x7FF))
    decoder.on_message_received(frame(0x350, b"", is_remote_frame=True))
    decoder.on_message_received(can.Message(is_error_frame=True))
    c = decoder.counts
    assert c["frames"] == 3003
    assert c["decoded"] + c["unknown_id"] + c["short_dlc"] + c["undecodable"] + c["error_or_remote"] == 3003
    # Random bytes in a telltale frame decode to OFF/ON/BLINK or "not available", never anything else.
    for name, r in decoder.state.snapshot().items():
        if name.startswith("Vehicle.Telltale.") and r.value is not None:
            assert r.value in ("OFF", "ON", "BLINK")


def test_dtc_list_collected_across_mux_frames(decoder):
    p = decoder.profile
    frames = p.encode({"Vehicle.Diagnostics.DTCList": ["P0301", "C0035", "U0100"]})["DTC_Report"]
    assert len(frames) == 3
    decoder.on_message_received(frame(frames[0][0], frames[0][2], ext=True))
    assert decoder.state.get("Vehicle.Diagnostics.DTCList").status == "missing"   # incomplete: not published
    for fid, ext, data in frames[1:]:
        decoder.on_message_received(frame(fid, data, ext=ext))
    assert decoder.state.get("Vehicle.Diagnostics.DTCList").value == ["P0301", "C0035", "U0100"]
    (fid, ext, data), = p.encode({"Vehicle.Diagnostics.DTCList": []})["DTC_Report"]
    decoder.on_message_received(frame(fid, data, ext=ext))
    assert decoder.state.get("Vehicle.Diagnostics.DTCList").value == []


def test_receive_filters_keep_unmapped_ids_out(channel):
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    with BusReader(BusConfig(interface="virtual", channel=channel), p, st) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        for i in range(100):
            tx.send(can.Message(arbitration_id=0x100 + i, data=bytes(8), is_extended_id=False))
        (fid, ext, data), = p.encode({FUEL: 33.0})["FuelStatus"]
        tx.send(can.Message(arbitration_id=fid, data=data, is_extended_id=ext))
        deadline = time.monotonic() + 2
        while st.get(FUEL).value != 33.0 and time.monotonic() < deadline:
            time.sleep(0.01)
        tx.shutdown()
    assert st.get(FUEL).value == 33.0
    assert reader.counts["frames"] == 1          # the 100 unmapped frames never reached the decoder


def test_reader_keeps_state_and_recovers_when_the_interface_vanishes(channel):
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    reader = BusReader(BusConfig(interface="virtual", channel=channel), p, st,
                       backoff_initial=0.1, backoff_max=0.4)
    tx = can.Bus(interface="virtual", channel=channel)
    sim = Simulator(tx, p, load_scenario("low_fuel"))
    with reader:
        assert reader.connected.wait(2)
        sim.start()
        time.sleep(0.5)
        assert st.get(FUEL).value == 7.0
        reader.bus.shutdown()                      # the interface goes away under the reader
        deadline = time.monotonic() + 3
        while reader.reconnects == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reader.reconnects == 1
        assert "closed" in (reader.last_error or "").lower()
        assert st.get(FUEL).value == 7.0           # last state kept while reconnecting
        assert reader.connected.wait(3)            # ... and it comes back
        sim.set({FUEL: 6.5})
        deadline = time.monotonic() + 3
        while st.get(FUEL).value != 6.5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert st.get(FUEL).value == 6.5 and st.get(FUEL).fresh
        sim.stop()
    tx.shutdown()


def test_reader_retries_with_backoff_until_the_bus_exists():
    p = load_profile("demo")
    statuses = []
    reader = BusReader(BusConfig(interface="socketcan", channel="nosuchcan9"), p, VehicleState.for_profile(p),
                       backoff_initial=0.05, backoff_max=0.2, on_status=statuses.append)
    with reader:
        time.sleep(0.6)
        assert not reader.connected.is_set()
    assert len(statuses) >= 3
    assert "cannot open CAN bus socketcan:nosuchcan9" in statuses[0]
    assert "retrying in 0.1 s" in statuses[1] and "retrying in 0.2 s" in statuses[-1]


def test_reader_never_transmits(channel):
    p = load_profile("demo")
    sniffer = can.Bus(interface="virtual", channel=channel)
    with BusReader(BusConfig(interface="virtual", channel=channel), p, VehicleState.for_profile(p)) as reader:
        assert reader.connected.wait(2)
        time.sleep(0.5)
    assert sniffer.recv(timeout=0.2) is None
    sniffer.shutdown()


# ----------------------------------------------------------------------------- DTC list cycles
DTC = "Vehicle.Diagnostics.DTCList"
OLD, NEW = ["P0301", "P0420"], ["P0171", "P0300"]


def dtc_frames(p, codes):
    return [frame(fid, data, ext=ext) for fid, ext, data in p.encode({DTC: codes})["DTC_Report"]]


def feed_and_watch(decoder, frames):
    """Feed frames in the order given, each stamped as it is fed (the lists reuse frames, and
    a frame stamped before the last one of its id is out of order); return every DTC list
    the state showed as fresh, one per frame."""
    seen = []
    for f in frames:
        decoder.on_message_received(frame(f.arbitration_id, f.data, ext=f.is_extended_id))
        r = decoder.state.get(DTC)
        if r.status == "ok":
            seen.append(r.value)
    return seen


def test_a_changed_dtc_list_with_the_same_count_never_mixes_old_and_new_codes(decoder):
    p = decoder.profile
    old, new = dtc_frames(p, OLD), dtc_frames(p, NEW)
    assert feed_and_watch(decoder, old)[-1] == OLD
    seen = feed_and_watch(decoder, new + new)      # two cycles of the new list
    assert seen and all(v in (OLD, NEW) for v in seen), seen   # never ['P0171', 'P0420']
    assert decoder.state.get(DTC).value == NEW


def test_a_dtc_list_switched_mid_cycle_is_not_published_as_one_list(decoder):
    """python-can's periodic tasks (virtual and socketcan BCM) keep their frame index when
    the simulator calls modify_data, so one cycle on the bus can start with the old list and
    end with the new one."""
    p = decoder.profile
    old, new = dtc_frames(p, OLD), dtc_frames(p, NEW)
    feed_and_watch(decoder, old)
    seen = feed_and_watch(decoder, [old[0], new[1]] + new + new)
    assert all(v in (OLD, NEW) for v in seen), seen            # never ['P0301', 'P0300']
    assert decoder.state.get(DTC).value == NEW
    # A count change mid-cycle restarts the collection too; a changed list needs two cycles.
    three = dtc_frames(p, ["U0100", "C0035", "B1234"])
    seen = feed_and_watch(decoder, [new[0], three[1], three[2]] + three)
    assert decoder.state.get(DTC).value == NEW
    seen += feed_and_watch(decoder, three)
    assert all(v in (NEW, ["U0100", "C0035", "B1234"]) for v in seen), seen
    assert decoder.state.get(DTC).value == ["U0100", "C0035", "B1234"]


def test_dtc_slots_out_of_sequence_are_not_combined(decoder):
    p = decoder.profile
    three = dtc_frames(p, ["U0100", "C0035", "B1234"])
    feed_and_watch(decoder, [three[1], three[2]])             # joined mid-cycle: nothing yet
    assert decoder.state.get(DTC).status == "missing"
    feed_and_watch(decoder, [three[0], three[2], three[1]])   # slot 1 lost, then late
    assert decoder.state.get(DTC).status == "missing"
    assert feed_and_watch(decoder, three)[-1] == ["U0100", "C0035", "B1234"]


def test_dtc_list_over_a_virtual_bus_with_the_simulator_switching_lists(channel, tmp_path):
    """The real simulator (send_periodic + modify_data) on a 20 ms DTC cycle, switched between
    two lists of the same length 12 times at odd moments: the state shows only real lists."""
    import random
    demo = (Path(__file__).resolve().parents[1] / "vehicles" / "demo.yaml").read_text()
    dbc = Path(__file__).resolve().parents[1] / "dbc" / "demo.dbc"
    fast = tmp_path / "fastdtc.yaml"
    fast.write_text(demo.replace("dbc: ../dbc/demo.dbc", f"dbc: {dbc}\nmessages: {{DTC_Report: {{cycle_time_ms: 20}}}}"))
    p = load_profile(fast)
    st = VehicleState.for_profile(p, history_interval=0.0, history_len=100_000)   # keep every update
    lists = [["P0301", "P0420", "C0035"], ["P0171", "P0300", "U0100"]]
    rnd = random.Random(3)
    with BusReader(BusConfig(interface="virtual", channel=channel), p, st) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        try:
            with Simulator(tx, p, Scenario(name="dtc", vehicle="demo", signals={DTC: lists[0]})) as sim:
                for i in range(1, 13):
                    time.sleep(0.3 + rnd.random() * 0.05)
                    sim.set({DTC: lists[i % 2]})
                deadline = time.monotonic() + 2
                while st.get(DTC).value != lists[0] and time.monotonic() < deadline:
                    time.sleep(0.01)
        finally:
            tx.shutdown()
    values = [v for _, v in st.history(DTC)]
    assert values and all(v in lists for v in values), [v for v in values if v not in lists]
    assert st.get(DTC).value == lists[0]
    changes = sum(1 for a, b in zip(values, values[1:]) if a != b)
    assert changes >= 6, values          # the switches did get through
