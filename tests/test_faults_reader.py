"""Receive-side faults, with the real cantools and python-can (frames fed to FrameDecoder or
sent on a virtual bus): frame timestamps from other clocks, frames out of order, values
outside their range, and which unknown ids the counters can see."""

import contextlib
import logging
import time
from pathlib import Path

import can
import pytest

from assistant.can.bus import BusConfig
from assistant.can.profile import load_profile
from assistant.can.reader import BusReader, FrameDecoder
from assistant.state.store import MISSING, OK, STALE, UNAVAILABLE, VehicleState

ROOT = Path(__file__).resolve().parents[1]
REALWORLD_DBC = ROOT.parent / "shared" / "realworld" / "dbc"
SPEED = "Vehicle.Speed"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
RANGE = "Vehicle.Powertrain.FuelSystem.Range"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed"
OIL_LIFE = "Vehicle.Powertrain.CombustionEngine.EngineOil.LifeRemainingPercent"
TYRE_FL = "Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure"


def encoded(p, message, **values):
    """Frame (id, extended, data) of ``message`` from DBC physical values, through cantools
    directly (strict=False: values the profile itself would refuse to encode)."""
    msg = p.db.get_message_by_name(message)
    base = {s.name: 0 for s in msg.signals}
    base.update(values)
    return msg.frame_id, msg.is_extended_frame, msg.encode(base, scaling=True, padding=True, strict=False)


def frame(fid, ext, data, ts):
    return can.Message(arbitration_id=fid, is_extended_id=ext, data=data, timestamp=ts)


def wait_until(cond, timeout=3.0):
    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        time.sleep(0.01)
    return cond()


# ----------------------------------------------------------------------------- timestamps

def test_state_ages_on_a_monotonic_clock():
    assert VehicleState().clock is time.monotonic


@contextlib.contextmanager
def speed_sent_with_stamp(channel, value, stamp):
    """A real BusReader on a virtual bus; one VehicleDynamics frame carrying ``value`` km/h sent
    with the frame timestamp ``stamp``; yields (profile, state) once it has arrived."""
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    (fid, ext, data), = p.encode({SPEED: value})["VehicleDynamics"]
    with BusReader(BusConfig(interface="virtual", channel=channel), p, st) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel, preserve_timestamps=True)
        try:
            tx.send(frame(fid, ext, data, stamp))
            assert wait_until(lambda: st.get(SPEED).status != MISSING)
            yield p, st
        finally:
            tx.shutdown()


def test_a_frame_stamped_an_hour_ahead_goes_stale_on_time(channel):
    """The sender's (or interface's) clock is an hour ahead: the value is fresh on arrival and
    stale ``stale_after`` later, not an hour later."""
    with speed_sent_with_stamp(channel, 50.0, time.time() + 3600) as (p, st):
        assert st.get(SPEED).status == OK and st.get(SPEED).value == 50.0
        time.sleep(p.stale_after(SPEED) + 0.3)
        r = st.get(SPEED)
        assert r.status == STALE and 0.5 < r.age < 5, r


@pytest.mark.parametrize("stamp", [0.5, "monotonic"])
def test_a_frame_stamped_on_another_clock_is_fresh_on_arrival(channel, stamp):
    with speed_sent_with_stamp(channel, 42.0, time.monotonic() if stamp == "monotonic" else stamp) as (p, st):
        r = st.get(SPEED)
    assert r.status == OK and r.value == 42.0 and r.age < 0.5, r


def test_an_older_frame_never_replaces_a_newer_value(caplog):
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st, log_interval=60)

    def fuel(level, ts):
        (fid, ext, data), = p.encode({FUEL: level})["FuelStatus"]
        dec.on_message_received(frame(fid, ext, data, ts))

    fuel(40.0, 1000.0)
    with caplog.at_level(logging.WARNING, logger="assistant.can.reader"):
        for i in range(100):
            fuel(20.0, 999.9 - i)                # stamped before the value the state holds
    assert st.get(FUEL).value == 40.0 and st.get(FUEL).fresh
    assert dec.counts["out_of_order"] == 100 and dec.counts["decoded"] == 1
    logged = [r.getMessage() for r in caplog.records if "FuelStatus" in r.getMessage()]
    assert len(logged) == 1 and "before the last one of its id" in logged[0], logged
    fuel(30.0, 1000.1)                           # newer again: taken
    assert st.get(FUEL).value == 30.0
    assert dec.counts["out_of_order"] == 100


def test_a_sender_clock_that_went_back_is_followed_once_the_value_would_be_stale():
    """One frame stamped an hour ahead must not hide the frames after it for an hour: older
    stamps are out of order only while the last accepted frame is recent (its stale_after)."""
    p = load_profile("demo")
    now = [0.0]
    st = VehicleState.for_profile(p, clock=lambda: now[0])
    dec = FrameDecoder(p, st)
    t0 = 1_700_000_000.0

    def speed(kmh, ts):
        (fid, ext, data), = p.encode({SPEED: kmh})["VehicleDynamics"]
        dec.on_message_received(frame(fid, ext, data, ts))

    speed(50.0, t0 + 3600)
    now[0] = 0.1
    speed(60.0, t0)                              # the clock came back: out of order for now
    assert st.get(SPEED).value == 50.0 and dec.counts["out_of_order"] == 1
    now[0] = 0.1 + p.stale_after(SPEED)
    speed(70.0, t0 + 0.6)                        # the 3600 s frame would be stale by now
    r = st.get(SPEED)
    assert r.value == 70.0 and r.status == OK
    now[0] += 0.02
    speed(71.0, t0 + 0.62)                       # and the sender's clock is followed from here
    assert st.get(SPEED).value == 71.0 and dec.counts["out_of_order"] == 1


def test_a_recording_fed_straight_in_runs_on_log_time():
    """timing="message": a log's timestamps are the recorder's receive times, so freshness
    and history follow the recording, however fast it is fed."""
    p = load_profile("demo")
    t_log = [0.0]
    st = VehicleState.for_profile(p, clock=lambda: t_log[0])
    dec = FrameDecoder(p, st, timing="message")
    start = 500.0                                 # e.g. seconds since the recorder booted
    for i in range(500):                          # 10 s of 50 Hz speed frames, fed at once
        (fid, ext, data), = p.encode({SPEED: float(i % 100)})["VehicleDynamics"]
        dec.on_message_received(frame(fid, ext, data, start + i * 0.02))
    last = start + 499 * 0.02
    t_log[0] = last + 0.1
    assert st.get(SPEED).status == OK and st.get(SPEED).value == 99.0
    assert st.snapshot([SPEED], now=last + p.stale_after(SPEED) + 0.1)[SPEED].status == STALE
    stamps = [t for t, _ in st.history(SPEED)]
    assert len(stamps) == 10 and stamps[0] == start and all(abs(b - a - 1.0) < 0.03 for a, b in zip(stamps, stamps[1:]))


def test_history_follows_the_frame_timestamps_when_fed_faster_than_recorded():
    """Default timing (live bus): ages from arrival, but the short history keeps the
    recording's relative timing (1 entry per history_interval of frame time)."""
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    for i in range(500):
        (fid, ext, data), = p.encode({SPEED: float(i % 100)})["VehicleDynamics"]
        dec.on_message_received(frame(fid, ext, data, 1000.0 + i * 0.02))
    assert len(st.history(SPEED)) == 10
    assert st.get(SPEED).status == OK        # just arrived, whatever the stamps say


# ----------------------------------------------------------------------------- ranges

def test_a_fuel_level_of_125_percent_is_unavailable_counted_and_logged_at_a_bounded_rate(caplog):
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st, log_interval=60)
    fid, ext, data = encoded(p, "FuelStatus", FuelLevel=125, FuelRange=300, AvgFuelConsumption=6.5)
    t0 = time.time()
    with caplog.at_level(logging.WARNING, logger="assistant.can.reader"):
        for i in range(200):
            dec.on_message_received(frame(fid, ext, data, t0 + i * 0.5))
    r = st.get(FUEL)
    assert r.status == UNAVAILABLE and r.value is None
    assert st.get(RANGE).status == OK and st.get(RANGE).value == 300_000   # the rest of the frame stands
    assert dec.counts["out_of_range"] == 200 and dec.counts["decoded"] == 200
    logged = [m.getMessage() for m in caplog.records if "FuelLevel" in m.getMessage()]
    assert len(logged) == 1, logged
    assert "FuelStatus.FuelLevel = 125 %" in logged[0] and "outside 0..100 %" in logged[0]
    assert "reported unavailable" in logged[0]
    fid, ext, data = encoded(p, "FuelStatus", FuelLevel=100, FuelRange=300, AvgFuelConsumption=6.5)
    dec.on_message_received(frame(fid, ext, data, t0 + 200))
    assert st.get(FUEL).status == OK and st.get(FUEL).value == 100.0   # the limit itself is valid


@pytest.mark.parametrize("message,signal,value,canonical", [
    ("EVBatteryStatus", "HvSoCDisplayed", 110, SOC),
    ("ServiceStatus", "OilLifeRemaining", 150, OIL_LIFE),
])
def test_percentages_above_100_are_unavailable(message, signal, value, canonical):
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    fid, ext, data = encoded(p, message, **{signal: value})
    dec.on_message_received(frame(fid, ext, data, time.time()))
    assert st.get(canonical).status == UNAVAILABLE and dec.counts["out_of_range"] == 1


@pytest.mark.skipif(not (REALWORLD_DBC / "ford_lincoln_base_pt.dbc").exists(), reason="realworld DBCs absent")
def test_a_dbc_range_beyond_100_percent_does_not_make_109_percent_a_reading():
    """Ford's BattTracSoc2_Pc_Actl is [0|163.81] % in the DBC: the physical limit still applies."""
    p = load_profile("ford")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    fid, ext, data = encoded(p, "Battery_Traction_4_FD1", BattTracSoc2_Pc_Actl=109.2)
    dec.on_message_received(frame(fid, ext, data, time.time()))
    assert st.get(SOC).status == UNAVAILABLE and dec.counts["out_of_range"] == 1
    fid, ext, data = encoded(p, "Battery_Traction_4_FD1", BattTracSoc2_Pc_Actl=99.5)
    dec.on_message_received(frame(fid, ext, data, time.time() + 1))
    assert st.get(SOC).status == OK and st.get(SOC).value == 99.5


def test_a_negative_tyre_pressure_is_unavailable_even_without_a_dbc_range(tmp_path):
    """A DBC giving no range ([0|0]) and an offset that can go below zero: kPa >= 0 decides."""
    dbc = (ROOT / "dbc" / "demo.dbc").read_text().replace(
        ' SG_ TirePressureFL : 0|8@1+ (1.5,0) [0|381] "kPa"', ' SG_ TirePressureFL : 0|8@1+ (1.5,-30) [0|0] "kPa"')
    (tmp_path / "offset.dbc").write_text(dbc)
    demo = (ROOT / "vehicles" / "demo.yaml").read_text().replace("dbc: ../dbc/demo.dbc", "dbc: offset.dbc")
    (tmp_path / "offset.yaml").write_text(demo)
    p = load_profile(tmp_path / "offset.yaml")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    fid, ext, data = encoded(p, "TPMS_Status", TirePressureFL=-15, TirePressureFR=240)   # raw 10
    dec.on_message_received(frame(fid, ext, data, time.time()))
    assert st.get(TYRE_FL).status == UNAVAILABLE
    assert st.get("Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure").value == 240.0
    assert dec.counts["out_of_range"] == 1
    fid, ext, data = encoded(p, "TPMS_Status", TirePressureFL=0, TirePressureFR=240)       # raw 20
    dec.on_message_received(frame(fid, ext, data, time.time() + 1))
    assert st.get(TYRE_FL).status == OK and st.get(TYRE_FL).value == 0.0


# ----------------------------------------------------------------------------- unknown ids

def test_unmapped_ids_are_counted_only_where_they_reach_the_decoder(channel, tmp_path):
    """What docs/vehicles.md and bench/README.md say: on a live bus the receive filter drops
    unmapped ids before the decoder (unknown_id stays 0); a log read with can.LogReader, or a
    bus opened without the filter, reaches the decoder and every unmapped frame is counted."""
    p = load_profile("demo")
    (fid, ext, data), = p.encode({FUEL: 33.0})["FuelStatus"]
    unmapped = [can.Message(arbitration_id=0x100 + i, data=bytes(8), is_extended_id=False) for i in range(50)]
    mapped = can.Message(arbitration_id=fid, data=data, is_extended_id=ext)

    st = VehicleState.for_profile(p)
    with BusReader(BusConfig(interface="virtual", channel=channel), p, st) as reader:   # filtered
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        sniffer = can.Bus(interface="virtual", channel=channel)                        # not filtered
        plain = FrameDecoder(p, VehicleState.for_profile(p))
        try:
            for m in unmapped + [mapped]:
                tx.send(m)
            assert wait_until(lambda: st.get(FUEL).value == 33.0)
            log = tmp_path / "bus.log"
            with can.Logger(log) as logger:
                while (m := sniffer.recv(timeout=0.2)) is not None:
                    logger.on_message_received(m)
                    plain.on_message_received(m)
        finally:
            tx.shutdown()
            sniffer.shutdown()
    assert reader.counts["unknown_id"] == 0 and reader.counts["frames"] == 1
    assert plain.counts["unknown_id"] == 50 and plain.counts["decoded"] == 1
    replayed = FrameDecoder(p, VehicleState.for_profile(p))
    with can.LogReader(log) as frames:
        for m in frames:
            replayed.on_message_received(m)
    assert replayed.counts["unknown_id"] == 50 and replayed.counts["decoded"] == 1
