"""Every mapped signal of every shipped profile: value -> cantools encode -> virtual bus ->
BusReader -> VehicleState equals the value (within the DBC resolution)."""

import time

import can
import pytest

from assistant import paths
from assistant.sim.scenario import Scenario
from assistant.sim.simulator import Simulator
from assistant.can.bus import BusConfig
from assistant.can.profile import NOT_AVAILABLE, OUT_OF_RANGE, load_profile
from assistant.can.reader import BusReader
from assistant.state.signals import Kind
from assistant.state.store import OK, VehicleState

PROFILES = sorted(p.stem for p in paths.VEHICLES_DIR.glob("*.yaml"))
CODES = ["P0301", "C0035", "B1234", "U0100"]


def sample_values(profile, pick):
    """A representable value for every mapped signal; pick=0 or 1 chooses between two sets."""
    values, tolerance = {}, {}
    for name, m in profile.mappings.items():
        sig = m.message.get_signal_by_name(m.signal)
        kind = m.spec.kind
        if kind is Kind.DTC_LIST:
            values[name] = CODES[: 2 + pick][: len(m.items)]
            continue
        if kind in (Kind.BOOL, Kind.ENUM):
            choices = sorted({m.decode(p) for p in _phys_candidates(sig)} - {NOT_AVAILABLE}, key=str)
            values[name] = choices[pick % len(choices)]
            continue
        lo = sig.minimum if sig.minimum is not None else sig.conversion.raw_to_scaled(0)
        hi = sig.maximum if sig.maximum is not None else lo + 100 * sig.scale
        raw_lo = round((lo - sig.offset) / sig.scale)
        raw_hi = round((hi - sig.offset) / sig.scale)
        raw = raw_lo + (raw_hi - raw_lo) * (1 + pick) // 3
        # Inside what the profile accepts: the DBC range and the unit's physical limits
        # (a DBC allowing a 163.81 % state of charge does not make 109 % a reading).
        while raw > raw_lo and m.decode(sig.conversion.raw_to_scaled(raw + 1, decode_choices=False)) is OUT_OF_RANGE:
            raw = (raw_lo + raw) // 2
        phys = sig.conversion.raw_to_scaled(raw, decode_choices=False)
        values[name] = m.decode(phys)
        if values[name] is NOT_AVAILABLE:   # landed on the SNA value: take its neighbour
            raw -= 1
            values[name] = m.decode(sig.conversion.raw_to_scaled(raw, decode_choices=False))
        tolerance[name] = abs(m.decode(sig.conversion.raw_to_scaled(raw + 1, decode_choices=False)) - values[name])
    return values, tolerance


def _phys_candidates(sig):
    """Physical values of the raw values cantools can decode (signed ones two's complement)."""
    lo = -(1 << (sig.length - 1)) if sig.is_signed else 0
    raws = range(lo, lo + min(1 << sig.length, 64))
    return [sig.conversion.raw_to_scaled(r, decode_choices=False) for r in raws]


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("pick", [0, 1])
def test_every_mapped_signal_round_trips(name, pick, channel):
    profile = load_profile(name)
    values, tolerance = sample_values(profile, pick)
    assert values, f"{name}: no mapped signals"
    state = VehicleState.for_profile(profile)
    cfg = BusConfig(interface="virtual", channel=channel)
    with BusReader(cfg, profile, state) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        try:
            with Simulator(tx, profile, Scenario(name="rt", vehicle=name, signals=values)):
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    snap = state.snapshot(list(values))
                    if all(r.status == OK for r in snap.values()):
                        break
                    time.sleep(0.02)
        finally:
            tx.shutdown()
    wrong = {}
    for sig, expected in values.items():
        r = snap[sig]
        ok = r.status == OK and (
            abs(r.value - expected) <= tolerance[sig] / 2 + 1e-9 if sig in tolerance else r.value == expected)
        if not ok:
            wrong[sig] = (expected, r.value, r.status)
    assert not wrong, f"{name}: {wrong}"
    assert reader.counts["undecodable"] == 0 and reader.counts["short_dlc"] == 0


SIGNED_BOOL_DBC = '''VERSION ""

NS_ :

BS_:

BU_: BCM HU

BO_ 1440 ServiceStatus: 8 BCM
 SG_ ServiceDueFlag : 7|1@1- (1,0) [-1|0] "" HU
 SG_ TirePressureLowFL : 12|1@1- (1,0) [-1|0] "" HU

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
BA_DEF_DEF_ "GenMsgCycleTime" 0;
BA_ "GenMsgCycleTime" BO_ 1440 100;
'''


def test_signed_one_bit_bools_without_a_value_table_round_trip(tmp_path, channel):
    """A signed 1-bit flag (``@1-``) decodes as -1 when set; the default bool table must read
    that as true, and encoding true must give the set bit (not 'out of range')."""
    (tmp_path / "signed.dbc").write_text(SIGNED_BOOL_DBC)
    (tmp_path / "signed.yaml").write_text(
        "name: signed\ndbc: signed.dbc\nsignals:\n"
        "  Vehicle.Service.IsServiceDue: {source: ServiceStatus.ServiceDueFlag}\n"
        "  Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.IsPressureLow: {source: ServiceStatus.TirePressureLowFL}\n")
    profile = load_profile(tmp_path / "signed.yaml")
    due, low = "Vehicle.Service.IsServiceDue", "Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.IsPressureLow"
    (_, _, data), = profile.encode({due: True, low: False})["ServiceStatus"]
    assert data[0] & 0x80 and not data[1] & 0x10        # bit 7 set, bit 12 clear (unused bits padded)
    msg = profile.db.get_message_by_name("ServiceStatus")
    assert msg.decode(data, decode_choices=False)["ServiceDueFlag"] == -1   # what cantools gives
    state = VehicleState.for_profile(profile)
    with BusReader(BusConfig(interface="virtual", channel=channel), profile, state) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        try:
            with Simulator(tx, profile, Scenario(name="s", vehicle="signed", signals={due: True, low: False})) as sim:
                deadline = time.monotonic() + 3
                while state.get(due).status != OK and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert (state.get(due).value, state.get(low).value) == (True, False)
                assert state.get(due).status == OK
                sim.set({due: False, low: True})
                deadline = time.monotonic() + 3
                while state.get(low).value is not True and time.monotonic() < deadline:
                    time.sleep(0.01)
                assert (state.get(due).value, state.get(low).value) == (False, True)
        finally:
            tx.shutdown()


# Values pinned by hand from dbc/demo.dbc, independent of the map's own decode (a wrong unit
# factor in the map would cancel out in the round trips above but not here).
RANGE, TTS = "Vehicle.Powertrain.FuelSystem.Range", "Vehicle.Service.TimeToService"
DTS, FL = "Vehicle.Service.DistanceToService", "Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure"


def test_demo_encoding_pinned_to_hand_computed_raw_values():
    p = load_profile("demo")
    frames = p.encode({RANGE: 48000, "Vehicle.Powertrain.FuelSystem.RelativeLevel": 7,
                       TTS: 10 * 86400, DTS: -1500, FL: 240,
                       "Vehicle.TraveledDistance": 12345.6,
                       "Vehicle.LowVoltageBattery.CurrentVoltage": 12.6})
    (_, _, fuel), = frames["FuelStatus"]
    assert fuel[1] | fuel[2] << 8 == 48            # FuelRange 8|16@1+ (1,0) "km": 48000 m = 48 km
    assert fuel[0] == 14                           # FuelLevel 0|8@1+ (0.5,0) "%": 7 % = raw 14
    (_, _, svc), = frames["ServiceStatus"]
    assert int.from_bytes(svc[2:4], "little", signed=True) == 10      # DaysToService "d": 864000 s = 10 d
    assert int.from_bytes(svc[0:2], "little", signed=True) == -1500   # DistanceToService "km"
    (_, _, tpms), = frames["TPMS_Status"]
    assert tpms[0] == 160                          # TirePressureFL (1.5,0) "kPa": 240 kPa = raw 160
    (_, _, odo), = frames["Cluster_Odometer"]
    assert int.from_bytes(odo[0:3], "big") == 123456    # Odometer 7|24@0+ (0.1,0) "km", Motorola
    (_, _, psu), = frames["PowerSupplyStatus"]
    assert int.from_bytes(psu[0:2], "big") == 12600      # BatteryVoltage 7|16@0+ (0.001,0) "V"


def test_hand_built_frames_decode_to_hand_computed_canonical_values(channel):
    p = load_profile("demo")
    state = VehicleState.for_profile(p)
    sent = [
        (0x350, bytes([14, 48, 0, 68, 0, 0, 0, 0])),              # 7 %, 48 km, 6.8 l/100km
        (0x5A0, (-1500).to_bytes(2, "little", signed=True) + (10).to_bytes(2, "little") + bytes(4)),
        (0x385, bytes([160, 154, 0xFF, 161, 0, 0, 0, 0])),         # 240, 231, SNA, 241.5 kPa
    ]
    expected = {RANGE: 48000, "Vehicle.Powertrain.FuelSystem.RelativeLevel": 7.0,
                "Vehicle.Powertrain.FuelSystem.AverageConsumption": 6.8,
                DTS: -1500, TTS: 864000, FL: 240.0,
                "Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure": 231.0,
                "Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure": 241.5}
    with BusReader(BusConfig(interface="virtual", channel=channel), p, state) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        try:
            for fid, data in sent:
                tx.send(can.Message(arbitration_id=fid, is_extended_id=False, data=data))
            deadline = time.monotonic() + 3
            while reader.counts["decoded"] < len(sent) and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            tx.shutdown()
    got = {n: state.get(n).value for n in expected}
    assert got == pytest.approx(expected), got
    assert state.get("Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure").status == "unavailable"
