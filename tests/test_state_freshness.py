"""Freshness comes from the message cycle time: stop sending and signals turn stale."""

import time

import can

from assistant.sim.scenario import load_scenario
from assistant.sim.simulator import Simulator
from assistant.can.bus import BusConfig
from assistant.can.profile import load_profile
from assistant.can.reader import BusReader
from assistant.state.store import MISSING, OK, STALE, VehicleState

SPEED = "Vehicle.Speed"
RANGE = "Vehicle.Powertrain.FuelSystem.Range"


def test_stale_after_follows_cycle_time():
    p = load_profile("demo")
    # 20 ms speed frames: 5 missed cycles would be 0.1 s, floored to the profile minimum 0.5 s.
    assert p.stale_after(SPEED) == 0.5
    # 500 ms fuel frames: 5 missed cycles.
    assert p.stale_after(RANGE) == 2.5
    assert p.stale_after("Vehicle.TraveledDistance") == 5.0


def test_value_turns_stale_then_fresh_again_with_a_fake_clock():
    now = [1000.0]
    st = VehicleState({SPEED: 0.5}, clock=lambda: now[0])
    assert st.get(SPEED).status == MISSING
    st.update(SPEED, 50.0, 1000.0, "VehicleDynamics.VehicleSpeed")
    assert st.get(SPEED).status == OK
    now[0] = 1000.49
    assert st.get(SPEED).fresh
    now[0] = 1000.51
    r = st.get(SPEED)
    assert r.status == STALE and r.value == 50.0 and r.age > 0.5   # last value kept, but aging
    now[0] = 2000.0
    assert st.get(SPEED).status == STALE                            # never "fresh forever"
    st.update(SPEED, 51.0, 2000.0, "VehicleDynamics.VehicleSpeed")
    assert st.get(SPEED).fresh and st.get(SPEED).value == 51.0


def test_history_is_short_and_decimated():
    st = VehicleState({}, history_len=5, history_interval=1.0)
    for i in range(100):
        st.update(SPEED, float(i), 1000.0 + i * 0.1, "x")   # 10 Hz for 10 s
    h = st.history(SPEED)
    assert len(h) == 5
    assert [v for _, v in h] == [50.0, 60.0, 70.0, 80.0, 90.0]


def test_signals_go_stale_on_a_real_bus_when_the_sender_stops(channel):
    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    with BusReader(BusConfig(interface="virtual", channel=channel), p, st) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        sim = Simulator(tx, p, load_scenario("low_fuel")).start()
        time.sleep(0.6)
        assert st.get(SPEED).fresh and st.get(RANGE).fresh
        # Take only the speed off the bus: it goes stale, fuel range stays fresh.
        sim.set({}, clear=[SPEED])
        t_off = time.monotonic()
        while st.get(SPEED).fresh and time.monotonic() - t_off < 3:
            time.sleep(0.02)
        went_stale = time.monotonic() - t_off
        assert st.get(SPEED).status == STALE
        assert 0.3 < went_stale < 1.5, went_stale
        assert st.get(RANGE).fresh
        # Stop everything: the fuel range (500 ms cycle) goes stale after ~2.5 s, not before.
        sim.stop()
        time.sleep(1.0)
        assert st.get(RANGE).fresh
        time.sleep(2.0)
        assert st.get(RANGE).status == STALE
        assert st.get(RANGE).value == 48000.0
        tx.shutdown()


def test_a_snapshot_never_shows_half_of_a_frame():
    """The reader applies all signals of one frame under one lock and ``snapshot`` copies
    under it, so a snapshot taken on another thread shows each frame whole: level, range and
    consumption of one FuelStatus frame, never the level of one frame beside the range of
    another. (Without either side of the lock this fails within a few hundred frames.)"""
    import sys
    import threading
    from assistant.can.reader import FrameDecoder

    p = load_profile("demo")
    st = VehicleState.for_profile(p)
    dec = FrameDecoder(p, st)
    names = ["Vehicle.Powertrain.FuelSystem.RelativeLevel", RANGE,
             "Vehicle.Powertrain.FuelSystem.AverageConsumption"]
    payloads = []
    for k in range(1, 41):          # frame k: k %, k km, k/10 l/100km (all exact in the DBC)
        (fid, ext, data), = p.encode(dict(zip(names, (k, k * 1000, k / 10))))["FuelStatus"]
        payloads.append(data)
    stop = threading.Event()
    torn, seen = [], set()

    def watch():
        while not stop.is_set():
            snap = st.snapshot(names)
            level, rng, avg = (snap[n].value for n in names)
            if level is None:
                continue
            seen.add(level)
            stamps = {snap[n].timestamp for n in names}
            if rng != level * 1000 or avg != round(level / 10, 1) or len(stamps) != 1:
                torn.append((level, rng, avg, stamps))

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)     # switch threads as often as possible
    t = threading.Thread(target=watch)
    try:
        t.start()
        t0 = time.time()
        for i in range(60_000):
            dec.on_message_received(can.Message(arbitration_id=fid, is_extended_id=ext,
                                                data=payloads[i % len(payloads)], timestamp=t0 + i * 1e-6))
            if torn:
                break
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert not torn, torn[:3]
    assert len(seen) > 10           # the watcher really saw the frames change under it
