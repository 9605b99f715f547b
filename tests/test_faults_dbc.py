"""DBC and map files that are wrong but load, and values a DBC cannot carry (real cantools on
copies of dbc/demo.dbc and of the real supplier DBCs, cut or modified in tmp_path)."""

import logging
from pathlib import Path

import can
import pytest

from assistant.sim.scenario import check_against_profile, load_scenario
from assistant.sim.simulator import Simulator
from assistant.can.dbc import DbcError, load_dbc
from assistant.can.profile import load_profile
from assistant.configfile import ConfigError

ROOT = Path(__file__).resolve().parents[1]
DEMO_DBC = ROOT / "dbc" / "demo.dbc"
DEMO_MAP = ROOT / "vehicles" / "demo.yaml"
REALWORLD_DBC = ROOT.parent / "shared" / "realworld" / "dbc"
LOGGER = "assistant.can.dbc"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"


def warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def demo_map(tmp_path: Path, dbc: Path, replace: tuple[str, str] | None = None) -> Path:
    text = DEMO_MAP.read_text().replace("dbc: ../dbc/demo.dbc", f"dbc: {dbc}")
    if replace:
        assert replace[0] in text
        text = text.replace(*replace)
    path = tmp_path / "car.yaml"
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- cut short

@pytest.mark.parametrize("needle,keep,newline", [
    (" SG_ FuelRange", 25, False),        # mid-SG_: ' SG_ FuelRange : 8|16@1+ '
    (" SG_ FuelRange", 25, True),         # ... and a newline after the cut
    (" SG_ FuelRange", 8, False),         # ' SG_ Fue'
    ("BO_ 864 EVBatteryStatus", 14, False),   # mid-BO_: 'BO_ 864 EVBatt'
    ("BO_ 864 EVBatteryStatus", 22, False),   # 'BO_ 864 EVBatteryStatu' (no ':')
])
def test_a_dbc_cut_mid_statement_is_refused_with_file_and_line(tmp_path, needle, keep, newline):
    text = DEMO_DBC.read_text()
    cut = text[: text.index(needle) + keep] + ("\n" if newline else "")
    path = tmp_path / "cut.dbc"
    path.write_text(cut)
    with pytest.raises(DbcError) as info:
        load_dbc(path)
    line = line_of(text, needle)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert "not loaded" in str(info.value) and "cut short" in str(info.value)


@pytest.mark.skipif(not (REALWORLD_DBC / "hyundai_2015_ccan.dbc").exists(), reason="realworld DBCs absent")
def test_a_real_dbc_cut_mid_signal_is_refused_not_loaded_with_fewer_signals(tmp_path):
    text = (REALWORLD_DBC / "hyundai_2015_ccan.dbc").read_text(encoding="utf-8", errors="replace")
    needle = " SG_ CF_Clu_FuelDispLvl"
    path = tmp_path / "hyundai_cut.dbc"
    path.write_text(text[: text.index(needle) + len(needle) + 6], encoding="utf-8")
    with pytest.raises(DbcError) as info:
        load_dbc(path)
    assert info.value.line == line_of(text, needle) and "hyundai_cut.dbc" in str(info.value)
    assert "CF_Clu_FuelDispLvl" in str(info.value)


def test_a_map_on_a_cut_dbc_blames_the_dbc_not_the_map(tmp_path):
    text = DEMO_DBC.read_text()
    dbc = tmp_path / "cut.dbc"
    dbc.write_text(text[: text.index(" SG_ FuelRange") + 25])
    with pytest.raises(DbcError) as info:
        load_profile(demo_map(tmp_path, dbc))
    assert str(info.value).startswith(f"{dbc}:{line_of(text, ' SG_ FuelRange')}: ")


def test_a_file_cut_after_a_complete_looking_signal_is_warned(tmp_path, caplog):
    """Cut inside the receiver list: it still parses, but the missing newline gives it away."""
    text = DEMO_DBC.read_text()
    needle = ' SG_ FuelRange : 8|16@1+ (1,0) [0|65534] "km" CLUS'
    path = tmp_path / "cut.dbc"
    path.write_text(text[: text.index(needle) + len(needle)])
    caplog.set_level(logging.WARNING, logger=LOGGER)
    load_dbc(path)
    line = line_of(text, needle)
    assert warnings(caplog) == [f"cut.dbc:{line}: file ends without a newline inside this SG_ statement: "
                                "it may have been cut short"]


def test_the_shipped_demo_dbc_loads_without_a_warning(caplog):
    caplog.set_level(logging.WARNING, logger=LOGGER)
    load_dbc(DEMO_DBC)   # its DTC_Code_0..7 share bits 16..31, but in different mux branches
    assert warnings(caplog) == []


# ----------------------------------------------------------------------------- overlapping signals

def test_overlapping_signals_are_warned_at_load_with_message_signals_and_bits(tmp_path, caplog):
    text = DEMO_DBC.read_text().replace(" SG_ FuelRange : 8|16@1+", " SG_ FuelRange : 4|16@1+")
    dbc = tmp_path / "overlap.dbc"
    dbc.write_text(text)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    load_dbc(dbc)
    line = line_of(text, " SG_ FuelRange")
    assert warnings(caplog) == [
        f"overlap.dbc:{line}: message FuelStatus: signals FuelLevel (0|8@1) and FuelRange (4|16@1) overlap "
        "at bit(s) 4..7: one frame cannot carry both, decoded values are wrong and encoding the message fails"]
    # Encoding the frame later names the overlap, not just "int too big to convert".
    p = load_profile(demo_map(tmp_path, dbc))
    with pytest.raises(ValueError) as info:
        p.encode({FUEL: 50, "Vehicle.Powertrain.FuelSystem.Range": 400_000})
    assert "FuelLevel (0|8@1) and FuelRange (4|16@1) overlap at bit(s) 4..7" in str(info.value)
    assert "message FuelStatus" in str(info.value)


def test_big_endian_overlap_and_signal_past_the_message_end_are_warned(tmp_path, caplog):
    text = DEMO_DBC.read_text().replace(
        ' SG_ BatteryCurrent : 23|16@0- (0.1,0)', ' SG_ BatteryCurrent : 11|16@0- (0.1,0)').replace(
        ' SG_ OilLevel : 48|3@1+', ' SG_ OilLevel : 62|3@1+')
    dbc = tmp_path / "layout.dbc"
    dbc.write_text(text)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    load_dbc(dbc)
    got = warnings(caplog)
    assert len(got) == 2, got
    assert got[0].startswith(f"layout.dbc:{line_of(text, ' SG_ OilLevel')}: message ServiceStatus: signal OilLevel "
                             "(62|3@1) reaches past the 8-byte message (bits 62..64)")
    assert got[1].startswith(f"layout.dbc:{line_of(text, ' SG_ BatteryCurrent')}: message PowerSupplyStatus: "
                             "signals BatteryVoltage (7|16@0) and BatteryCurrent (11|16@0) overlap at bit(s) 8..11")


# ----------------------------------------------------------------------------- map value tables

def test_a_values_key_the_signal_cannot_hold_is_refused_naming_map_line_and_signal(tmp_path):
    """values: {0: OFF, 5: ON} on a 1-bit signal: 5 can never be on the bus."""
    entry = "  Vehicle.Telltale.BatteryCharge: {source: Cluster_Telltales.TT_BatteryCharge}"
    path = demo_map(tmp_path, DEMO_DBC, (entry, "  Vehicle.Telltale.BatteryCharge:\n"
                                                "    source: EVBatteryStatus.HvChargingActive\n"
                                                "    values:\n"
                                                '      0: "OFF"\n'
                                                '      5: "ON"\n'))
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    line = line_of(path.read_text(), '      5: "ON"')
    assert str(info.value) == (f"{path}:{line}: signals.Vehicle.Telltale.BatteryCharge: values: 5 does not fit "
                               "signal HvChargingActive: 1-bit unsigned, raw values 0..1")


def test_invalid_keys_are_checked_too_and_signed_bit_patterns_still_load(tmp_path):
    dbc = DEMO_DBC.read_text().replace(' SG_ HvChargingActive : 24|1@1+', ' SG_ HvChargingActive : 24|2@1-')
    (tmp_path / "signed.dbc").write_text(dbc)
    entry = "  Vehicle.Telltale.BatteryCharge: {source: Cluster_Telltales.TT_BatteryCharge}"
    ok = demo_map(tmp_path, tmp_path / "signed.dbc", (entry, "  Vehicle.Telltale.BatteryCharge:\n"
                  "    source: EVBatteryStatus.HvChargingActive\n"
                  '    values: {0: "OFF", 1: "ON", 3: "BLINK"}\n'      # 3 = bit pattern of -1
                  "    invalid: [-2]\n"))
    p = load_profile(ok)
    m = p.mappings["Vehicle.Telltale.BatteryCharge"]
    assert (m.decode(0), m.decode(1), m.decode(-1)) == ("OFF", "ON", "BLINK")
    bad = tmp_path / "bad.yaml"               # (profiles are cached by path)
    bad.write_text(ok.read_text().replace("invalid: [-2]", "invalid: [-3]"))
    with pytest.raises(ConfigError) as info:
        load_profile(bad)
    line = line_of(bad.read_text(), "invalid: [-3]")
    assert str(info.value) == (f"{bad}:{line}: signals.Vehicle.Telltale.BatteryCharge: invalid: -3 does not fit "
                               "signal HvChargingActive: 2-bit signed, raw values 0..3 (or -2..-1)")


# ----------------------------------------------------------------------------- encode errors

@pytest.mark.parametrize("name,value,expected", [
    (FUEL, 300, "Vehicle.Powertrain.FuelSystem.RelativeLevel = 300 %: outside 0..100 % of DBC signal FuelLevel "
                "(message FuelStatus)"),
    (FUEL, 100.3, "Vehicle.Powertrain.FuelSystem.RelativeLevel = 100.3 %: outside 0..100 % of DBC signal FuelLevel "
                  "(message FuelStatus)"),
    ("Vehicle.Speed", -5, "Vehicle.Speed = -5 km/h: outside 0..655.33 km/h of DBC signal VehicleSpeed "
                          "(message VehicleDynamics)"),
    ("Vehicle.Service.DistanceToService", 40000, "Vehicle.Service.DistanceToService = 40000 km: outside "
     "-32768..32766 km of DBC signal DistanceToService (message ServiceStatus)"),
    ("Vehicle.Powertrain.FuelSystem.Range", "far", "Vehicle.Powertrain.FuelSystem.Range = 'far': not a number (m)"),
])
def test_encode_errors_name_the_signal_its_range_and_unit(name, value, expected):
    p = load_profile("demo")
    with pytest.raises(ValueError) as info:
        p.encode({name: value})
    assert str(info.value) == expected


def test_a_dbc_without_a_range_still_bounds_encoding_by_the_bits_and_the_unit(tmp_path):
    dbc = DEMO_DBC.read_text().replace('(0.5,0) [0|100] "%" CLUSTER,HU\n SG_ FuelRange',
                                       '(0.5,0) [0|0] "%" CLUSTER,HU\n SG_ FuelRange').replace(
        ' SG_ VehicleSpeed : 0|16@1+ (0.01,0) [0|655.33]', ' SG_ VehicleSpeed : 0|16@1+ (0.01,0) [0|0]')
    (tmp_path / "norange.dbc").write_text(dbc)
    p = load_profile(demo_map(tmp_path, tmp_path / "norange.dbc"))
    with pytest.raises(ValueError, match=r"RelativeLevel = 101 %: outside 0\.\.100 % of DBC signal FuelLevel"):
        p.encode({FUEL: 101})
    with pytest.raises(ValueError, match=r"Vehicle.Speed = 700 km/h: outside 0\.\.655\.35 km/h of DBC signal"):
        p.encode({"Vehicle.Speed": 700})


def test_a_scenario_with_an_impossible_value_is_refused_naming_file_and_signal(tmp_path, channel):
    sc = tmp_path / "overfull.yaml"
    sc.write_text(f"name: overfull\nvehicle: demo\nsignals:\n  {FUEL}: 300\n")
    scenario = load_scenario(sc)
    p = load_profile("demo")
    with pytest.raises(ConfigError) as info:
        check_against_profile(scenario, p, sc)
    assert str(info.value) == (f"{sc}: {FUEL} = 300 %: outside 0..100 % of DBC signal FuelLevel "
                               "(message FuelStatus)")
    bus = can.Bus(interface="virtual", channel=channel)
    try:
        with pytest.raises(ValueError, match=r"= 300 %: outside 0\.\.100 % of DBC signal FuelLevel"):
            Simulator(bus, p, scenario).start()
    finally:
        bus.shutdown()
