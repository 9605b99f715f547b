"""Bringing up a new car: DBC unit spellings (VW's ``Unit_KiloMeterPerHour``), a scenario's
``vehicle:`` path relative to the scenario file, and a map that maps nothing. Real DBC text,
map and scenario files written to tmp_path, loaded through cantools and the real loaders."""

import logging
import re
import textwrap
from pathlib import Path

import pytest

from assistant.can.profile import load_profile
from assistant.can.reader import FrameDecoder
from assistant.configfile import ConfigError
from assistant.sim.scenario import check_against_profile, load_scenario
from assistant.state import units
from assistant.state.store import OK, VehicleState

from .conftest import ROOT, run_cli

SPEED = "Vehicle.Speed"
ODO = "Vehicle.TraveledDistance"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
RANGE = "Vehicle.Powertrain.FuelSystem.Range"
VOLT = "Vehicle.LowVoltageBattery.CurrentVoltage"
COOLANT = "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"
TTS = "Vehicle.Service.TimeToService"

# A VW-style DBC: units spelled as in vw_mqb / MEB DBCs (words cut to five letters).
VW_DBC = """\
VERSION ""

NS_ :

BS_:

BU_: Gateway Kombi

BO_ 253 ESP_21: 8 Gateway
 SG_ ESP_v_Signal : 0|16@1+ (0.01,0) [0|655.32] "Unit_KiloMeterPerHour" Kombi
 SG_ KBI_Tankfuellstand : 16|8@1+ (1,0) [0|100] "Unit_PerCent" Kombi
 SG_ KBI_Reichweite : 24|16@1+ (1,0) [0|2000] "Unit_KiloMeter" Kombi
 SG_ BMS_Spannung : 40|16@1+ (1,0) [0|20000] "Unit_MilliVolt" Kombi

BO_ 1714 Kombi_01: 8 Kombi
 SG_ KBI_Kilometerstand : 0|20@1+ (1,0) [0|1000000] "UNIT_KILOMETER" Gateway
 SG_ MO_Temperatur : 24|8@1+ (0.75,-48) [-48|143.25] "Unit_DegreCelsi" Gateway
 SG_ KBI_Inspektion_Tage : 32|16@1+ (1,0) [0|1000] "Unit_Day" Gateway
 SG_ MO_Drehzahl : 48|16@1+ (0.25,0) [0|16383.75] "Unit_MinutInver" Gateway

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 10000;
BA_ "GenMsgCycleTime" BO_ 253 20;
BA_ "GenMsgCycleTime" BO_ 1714 1000;
"""

VW_MAP = """\
name: vw_units
dbc: vw.dbc
signals:
  Vehicle.Speed: {source: ESP_21.ESP_v_Signal}
  Vehicle.Powertrain.FuelSystem.RelativeLevel: {source: ESP_21.KBI_Tankfuellstand}
  Vehicle.Powertrain.FuelSystem.Range: {source: ESP_21.KBI_Reichweite}
  Vehicle.LowVoltageBattery.CurrentVoltage: {source: ESP_21.BMS_Spannung}
  Vehicle.TraveledDistance: {source: Kombi_01.KBI_Kilometerstand}
  Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature: {source: Kombi_01.MO_Temperatur}
  Vehicle.Service.TimeToService: {source: Kombi_01.KBI_Inspektion_Tage}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def car(folder: Path, map_text: str = VW_MAP, name: str = "car.yaml") -> Path:
    write(folder / "vw.dbc", VW_DBC)
    return write(folder / name, map_text)


def frame(fid, ext, data, ts):
    import can
    return can.Message(arbitration_id=fid, is_extended_id=ext, data=data, timestamp=ts)


# ----------------------------------------------------------------------------- unit spellings

@pytest.mark.parametrize("spelling,canonical", [
    ("Unit_KiloMeter", "km"), ("Unit_Meter", "m"), ("Unit_KiloMeterPerHour", "km/h"),
    ("Unit_MeterPerSecon", "m/s"), ("Unit_PerCent", "%"), ("Unit_Volt", "V"), ("Unit_MilliVolt", "mV"),
    ("Unit_DegreCelsi", "°C"), ("Unit_DegreCelsius", "°C"), ("Unit_Secon", "s"), ("Unit_Second", "s"),
    ("Unit_Minut", "min"), ("Unit_Hours", "h"), ("Unit_Day", "d"), ("Unit_KiloPascal", "kPa"),
    ("Unit_Bar", "bar"), ("Unit_Liter", "l"), ("unit_kilometerperhour", "km/h"), ("UNIT_PERCENT", "%"),
    ("Unit_km/h", "km/h"), ("kilopascal", "kPa"),
])
def test_vw_unit_spellings_are_accepted(spelling, canonical):
    assert units.normalize(spelling) == canonical


@pytest.mark.parametrize("spelling", ["Unit_MinutInver", "Unit_DegreOfArc", "Unit_", "Unit_KiloMeterPerLiter",
                                      "Unit_MeterPerSeconSquar", "deg"])
def test_ambiguous_or_other_units_are_still_refused_with_the_accepted_spellings(spelling):
    with pytest.raises(units.UnitError) as info:
        units.normalize(spelling)
    msg = str(info.value)
    assert repr(spelling) in msg and "docs/vehicles.md" in msg
    for u in ("km/h", "km", "°C", "kPa", "%", "V", "l/100km", "mpg"):
        assert u in msg


def test_a_vw_dbc_maps_without_unit_lines_and_converts_through_real_frames(tmp_path):
    profile = load_profile(car(tmp_path))
    values = {SPEED: 87.5, FUEL: 42.0, RANGE: 512000.0, VOLT: 12.6, ODO: 123456.0, COOLANT: 90.0,
              TTS: 30 * 86400.0}
    frames = profile.encode(values)
    # The DBC side holds DBC units: km for the range, mV for the voltage, days for the service.
    (fid, ext, data), = frames["ESP_21"]
    raw = profile.db.decode_message("ESP_21", data)
    assert raw["KBI_Reichweite"] == 512 and raw["BMS_Spannung"] == 12600
    (fid2, ext2, data2), = frames["Kombi_01"]
    assert profile.db.decode_message("Kombi_01", data2)["KBI_Inspektion_Tage"] == 30

    state = VehicleState.for_profile(profile)
    dec = FrameDecoder(profile, state)
    dec.on_message_received(frame(fid, ext, data, 1000.0))
    dec.on_message_received(frame(fid2, ext2, data2, 1000.0))
    for name, want in values.items():
        r = state.get(name)
        assert r.status == OK and r.value == pytest.approx(want, abs=0.01), name


def test_an_unknown_dbc_unit_names_map_line_signal_and_asks_for_unit(tmp_path):
    text = VW_MAP + "  Vehicle.Service.DistanceToService: {source: Kombi_01.MO_Drehzahl}\n"
    path = car(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    line = text.splitlines().index("  Vehicle.Service.DistanceToService: {source: Kombi_01.MO_Drehzahl}") + 1
    msg = "\n".join(info.value.problems)
    assert f"{path}:{line}: signals.Vehicle.Service.DistanceToService: the DBC unit 'Unit_MinutInver'" in msg
    assert "state the unit with `unit:`" in msg and "docs/vehicles.md" in msg and "km/h" in msg


def test_a_wrong_unit_line_points_at_the_unit_line(tmp_path):
    text = VW_MAP.replace("{source: ESP_21.ESP_v_Signal}", "\n    source: ESP_21.ESP_v_Signal\n    unit: furlong")
    path = car(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_profile(path)
    line = text.splitlines().index("    unit: furlong") + 1
    assert any(p.startswith(f"{path}:{line}: signals.Vehicle.Speed: unit: unknown unit 'furlong' (accepted: ")
               for p in info.value.problems), info.value.problems


def test_the_docs_table_lists_every_accepted_spelling():
    doc = (ROOT / "docs" / "vehicles.md").read_text()
    table = doc[doc.index("## Units: the spellings"):]
    table = table[: table.index("\n## ")]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"\| `([^`]+)` \|(.*)\|$", line)
        if m:
            rows[m.group(1)] = {s.lower() for s in re.findall(r"`([^`]+)`", m.group(2))}
    accepted = units.accepted_spellings()
    assert set(rows) == set(accepted)
    for unit, spellings in accepted.items():
        assert {s.lower() for s in spellings} - {unit.lower()} <= rows[unit] | {unit.lower()}, unit
        for s in rows[unit]:
            assert units.normalize(s) == unit and units.normalize("Unit_" + s) == unit


# ----------------------------------------------------------------------------- vehicle: paths

def scenario_on(path: Path, vehicle: str) -> Path:
    return write(path, f"name: bench\nvehicle: {vehicle}\nsignals: {{{SPEED}: 50, {FUEL}: 12}}\n")


@pytest.mark.parametrize("vehicle,where", [
    ("../cars/car.yaml", "cars/car.yaml"),          # a relative path with a /
    ("car.yaml", "scenarios/car.yaml"),             # a bare file name ending in .yaml
    ("./cars/golf", "scenarios/cars/golf"),         # a / and no suffix: still a path
])
def test_a_relative_vehicle_path_is_read_relative_to_the_scenario_file(tmp_path, monkeypatch, vehicle, where):
    bench = tmp_path / "bench"
    target = bench / where
    car(target.parent, name=target.name)
    sc_path = scenario_on(bench / "scenarios" / "low_fuel.yaml", vehicle)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)                    # not the scenario's folder, nor the bench
    sc = load_scenario(sc_path)
    assert Path(sc.vehicle) == target.resolve()
    profile = load_profile(sc.vehicle)
    assert profile.name == "vw_units"
    check_against_profile(sc, profile, sc_path)


def test_a_scenario_named_by_a_relative_path_finds_its_vehicle_too(tmp_path, monkeypatch):
    car(tmp_path / "bench" / "cars")
    scenario_on(tmp_path / "bench" / "scenarios" / "s.yaml", "../cars/car.yaml")
    monkeypatch.chdir(tmp_path / "bench")
    sc = load_scenario("scenarios/s.yaml")
    assert Path(sc.vehicle) == (tmp_path / "bench" / "cars" / "car.yaml").resolve()
    assert load_profile(sc.vehicle).name == "vw_units"


def test_a_missing_relative_vehicle_names_the_path_it_looked_at(tmp_path, monkeypatch):
    sc_path = scenario_on(tmp_path / "scenarios" / "s.yaml", "../cars/nope.yaml")
    car(tmp_path / "elsewhere" / "cars", name="nope.yaml")       # relative to the cwd: not used
    (tmp_path / "elsewhere" / "bin").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere" / "bin")
    sc = load_scenario(sc_path)
    with pytest.raises(ConfigError) as info:
        load_profile(sc.vehicle)
    assert f"{(tmp_path / 'cars' / 'nope.yaml').resolve()}: file not found" in str(info.value.problems)


def test_a_bare_vehicle_name_is_still_a_shipped_profile(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    car(folder, name="demo")                        # a file called demo beside it changes nothing
    sc = load_scenario(scenario_on(folder / "s.yaml", "demo"))
    assert sc.vehicle == "demo"
    assert load_profile(sc.vehicle).path == (ROOT / "vehicles" / "demo.yaml").resolve()
    absolute = car(tmp_path / "abs")
    assert load_scenario(scenario_on(folder / "t.yaml", str(absolute))).vehicle == str(absolute)


# ----------------------------------------------------------------------------- signals: {}

EMPTY_MAP = "name: nothing\ndescription: no signals yet\ndbc: vw.dbc\nsignals: {}\n"


def test_a_map_with_no_signals_loads_with_a_warning_naming_file_and_line(tmp_path, caplog):
    path = car(tmp_path, EMPTY_MAP)
    with caplog.at_level(logging.WARNING):
        profile = load_profile(path)
    assert not profile.capabilities
    msgs = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"{path}:4: signals: maps no signals: the assistant will say it cannot read anything" in msgs


def test_a_map_with_signals_gives_no_such_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        load_profile(car(tmp_path))
    assert not [r for r in caplog.records if "maps no signals" in r.getMessage()]


def test_serve_check_shows_the_no_signals_warning(tmp_path):
    path = car(tmp_path, EMPTY_MAP)
    cfg = write(tmp_path / "config.yaml", f"""\
        bus: {{interface: virtual, channel: onboarding}}
        vehicle: {path}
        llm: {{path: SmolLM2-135M-Instruct.Q4_1.gguf}}
        voice: {{enabled: false}}
        interface: none
        """)
    r = run_cli("serve", "--check", "--config", str(cfg))
    assert f"{path}:4: signals: maps no signals: the assistant will say it cannot read anything" in r.stderr, r.stderr
    assert r.returncode == 0 and "OK" in r.stdout, (r.stdout, r.stderr)


# ----------------------------------------------------------------------------- a consumption in mpg

MPG_DBC = """\
VERSION ""

NS_ :

BS_:

BU_: ECU Cluster

BO_ 300 Trip: 8 ECU
 SG_ AvgFuelEconomy : 0|16@1+ (0.1,0) [0|150] "mpg" Cluster
 SG_ AvgEconomyAlt : 16|16@1+ (0.1,0) [0|150] "" Cluster

BA_DEF_ BO_ "GenMsgCycleTime" INT 0 10000;
BA_ "GenMsgCycleTime" BO_ 300 100;
"""


@pytest.mark.parametrize("line", ["{source: Trip.AvgFuelEconomy}", "{source: Trip.AvgEconomyAlt, unit: mpg}",
                                  "{source: Trip.AvgEconomyAlt, unit: MPG}"])
def test_a_consumption_the_dbc_gives_in_mpg_is_converted_through_real_frames(tmp_path, line):
    write(tmp_path / "mpg.dbc", MPG_DBC)
    path = write(tmp_path / "car.yaml", f"name: mpg_car\ndbc: mpg.dbc\nsignals:\n"
                                        f"  Vehicle.Powertrain.FuelSystem.AverageConsumption: {line}\n")
    profile = load_profile(path)
    name = "Vehicle.Powertrain.FuelSystem.AverageConsumption"
    (fid, ext, data), = profile.encode({name: 7.8})["Trip"]
    sig = "AvgFuelEconomy" if "AvgFuelEconomy" in line else "AvgEconomyAlt"
    assert profile.db.decode_message("Trip", data)[sig] == pytest.approx(30.2, abs=0.05)   # 235.21 / 7.8
    state = VehicleState.for_profile(profile)
    FrameDecoder(profile, state).on_message_received(frame(fid, ext, data, 1.0))
    assert state.get(name).status == OK and state.get(name).value == pytest.approx(7.8, abs=0.05)
    # 0 mpg has no l/100km: out of range, never a crash or an infinite consumption
    zero = profile.db.encode_message("Trip", {"AvgFuelEconomy": 0, "AvgEconomyAlt": 0})
    FrameDecoder(profile, state).on_message_received(frame(fid, ext, zero, 2.0))
    assert state.get(name).status != OK


def test_scale_on_an_mpg_signal_is_refused_at_its_line(tmp_path):
    write(tmp_path / "mpg.dbc", MPG_DBC)
    path = write(tmp_path / "car.yaml", "name: mpg_car\ndbc: mpg.dbc\nsignals:\n"
                                        "  Vehicle.Powertrain.FuelSystem.AverageConsumption: "
                                        "{source: Trip.AvgFuelEconomy, scale: 2}\n")
    with pytest.raises(ConfigError, match="do not apply to a signal in mpg"):
        load_profile(path)


def test_an_inline_suite_scenario_reads_its_relative_vehicle_from_the_suite_folder(tmp_path, monkeypatch):
    """A dialogue suite with the scenario written inline: its vehicle: path is relative to the
    suite file, checked when the suite loads and used when it runs (on the virtual bus)."""
    from assistant.dialogue.runner import SuiteRun
    from assistant.dialogue.suite import load_suite
    car(tmp_path / "bench" / "cars")
    suite = write(tmp_path / "bench" / "suites" / "vw.yaml", """\
        name: vw inline
        scenario:
          vehicle: ../cars/car.yaml
          signals: {Vehicle.Speed: 50, Vehicle.Powertrain.FuelSystem.RelativeLevel: 40,
                    Vehicle.Powertrain.FuelSystem.Range: 300000}
        steps:
          - say: how much fuel is left?
            expect: {tools: [get_energy_level], numbers: [{value: 40, unit: "%"}]}
        """)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    s = load_suite(suite)
    results = SuiteRun(s, suite, model=False).run()
    assert [r.failures for r in results] == [[]], results[0].answer.text if results[0].answer else results
