"""Broken map and scenario files: the error names the file, the line and the field."""

import textwrap

import pytest

from assistant.sim.scenario import check_against_profile, load_scenario
from assistant.can.dbc import DbcError
from assistant.can.profile import load_profile
from assistant.configfile import ConfigError

from .conftest import ROOT


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def profile_text(signals, dbc=str(ROOT / "dbc" / "demo.dbc")):
    return f"name: broken\ndbc: {dbc}\nsignals:\n" + textwrap.indent(textwrap.dedent(signals), "  ")


def test_map_with_unknown_message_names_file_and_signal(tmp_path):
    p = write(tmp_path, "m.yaml", profile_text("""\
        Vehicle.Speed: {source: NoSuchMessage.VehicleSpeed}
        """))
    with pytest.raises(ConfigError) as e:
        load_profile(p)
    assert f"{p}:4: signals.Vehicle.Speed: message 'NoSuchMessage' is not in the DBC" in str(e.value)


def test_map_with_unknown_field_names_line(tmp_path):
    p = write(tmp_path, "m.yaml", profile_text("""\
        Vehicle.Speed:
          source: VehicleDynamics.VehicleSpeed
          scael: 2
        """))
    with pytest.raises(ConfigError) as e:
        load_profile(p)
    assert f"{p}:6: signals.Vehicle.Speed.scael: unknown field" in str(e.value)


def test_map_with_unknown_canonical_name(tmp_path):
    p = write(tmp_path, "m.yaml", profile_text("""\
        Vehicle.Sped: {source: VehicleDynamics.VehicleSpeed}
        """))
    with pytest.raises(ConfigError, match="unknown canonical signal.*Vehicle.Sped"):
        load_profile(p)


def test_map_with_incompatible_unit(tmp_path):
    p = write(tmp_path, "m.yaml", profile_text("""\
        Vehicle.Speed: {source: VehicleDynamics.VehicleSpeed, unit: kPa}
        """))
    with pytest.raises(ConfigError, match="signals.Vehicle.Speed: unit: cannot convert 'kPa'"):
        load_profile(p)


def test_map_with_bad_value_table(tmp_path):
    p = write(tmp_path, "m.yaml", profile_text("""\
        Vehicle.Telltale.ABS: {source: Cluster_Telltales.TT_ABS, values: {0: "OF", 1: "ON"}}
        """))
    with pytest.raises(ConfigError, match="Vehicle.Telltale.ABS: values: 0 -> 'OF': must be one of OFF, ON, BLINK"):
        load_profile(p)


def test_map_pointing_at_a_broken_dbc(tmp_path):
    dbc = write(tmp_path, "bad.dbc", 'VERSION ""\n\nBO_ 100 Foo: 8 X\n SG_ A : 0|8@1+ (1,0) [0|1] "" X Y Z(\n')
    p = write(tmp_path, "m.yaml", profile_text("Vehicle.Speed: {source: Foo.A}\n", dbc=str(dbc)))
    with pytest.raises(DbcError) as e:
        load_profile(p)
    assert "bad.dbc" in str(e.value) and ":4" in str(e.value)


def test_map_invalid_yaml(tmp_path):
    p = write(tmp_path, "m.yaml", "name: x\nsignals: [\n")
    with pytest.raises(ConfigError, match=r"m.yaml:\d+: invalid YAML"):
        load_profile(p)


def test_unknown_profile_name_lists_known():
    with pytest.raises(ConfigError, match="unknown vehicle profile 'nope'.*demo"):
        load_profile("nope")


def test_scenario_wrong_type_names_line_and_field(tmp_path):
    p = write(tmp_path, "s.yaml", """\
        name: bad
        signals:
          Vehicle.Speed: 50
          Vehicle.Powertrain.FuelSystem.RelativeLevel: lots
        """)
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    msg = str(e.value)
    assert f"{p}:4: signals.Vehicle.Powertrain.FuelSystem.RelativeLevel: expected a number in %, got 'lots'" in msg


def test_scenario_unknown_field(tmp_path):
    p = write(tmp_path, "s.yaml", """\
        name: bad
        timeline:
          - at: 3
            sett: {}
        """)
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    assert f"{p}:4: timeline.0.sett: unknown field" in str(e.value)


def test_scenario_unknown_signals_all_reported_with_lines(tmp_path):
    p = write(tmp_path, "s.yaml", """\
        name: bad
        signals:
          Vehicle.Telltale.Flux: "ON"
        timeline:
          - at: 3
            set:
              Vehicle.Speeed: 10
            clear: [Vehicle.Foo]
        """)
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    assert e.value.problems == [
        f"{p}:3: signals.Vehicle.Telltale.Flux: unknown signal 'Vehicle.Telltale.Flux' (see docs/signals.md)",
        f"{p}:7: timeline.0.set.Vehicle.Speeed: unknown signal 'Vehicle.Speeed' (see docs/signals.md)",
        f"{p}:8: timeline.0.clear.0: unknown signal 'Vehicle.Foo'",
    ]


def test_scenario_bad_telltale_value_and_dtc(tmp_path):
    p = write(tmp_path, "s.yaml", """\
        name: bad
        signals:
          Vehicle.Telltale.ABS: DIM
          Vehicle.Diagnostics.DTCList: [P0301, X9999]
        """)
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    assert "expected one of OFF, ON, BLINK, got 'DIM'" in str(e.value)
    assert "'X9999' is not a DTC" in str(e.value)


def test_scenario_timeline_out_of_order(tmp_path):
    p = write(tmp_path, "s.yaml", """\
        name: bad
        timeline:
          - {at: 5, set: {Vehicle.Speed: 10}}
          - {at: 2, set: {Vehicle.Speed: 20}}
        """)
    with pytest.raises(ConfigError, match="timeline steps must be in time order"):
        load_scenario(p)


def test_scenario_value_the_vehicle_cannot_carry(tmp_path):
    p = write(tmp_path, "s.yaml", """\
        name: bad
        signals: {Vehicle.Diagnostics.DTCList: [P0001, P0002, P0003, P0004, P0005, P0006, P0007, P0008, P0009]}
        """)
    sc = load_scenario(p)
    with pytest.raises(ConfigError, match="9 codes but DTC_Report has 8 slots"):
        check_against_profile(sc, load_profile("demo"), p)


def test_unquoted_on_in_yaml_is_read_as_on(tmp_path):
    p = write(tmp_path, "s.yaml", "name: ok\nsignals: {Vehicle.Telltale.ABS: ON, Vehicle.Telltale.Airbag: off}\n")
    sc = load_scenario(p)
    assert sc.signals == {"Vehicle.Telltale.ABS": "ON", "Vehicle.Telltale.Airbag": "OFF"}


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid_for_its_vehicle(path):
    sc = load_scenario(path)
    assert sc.name == path.stem
    check_against_profile(sc, load_profile(sc.vehicle), path)


def test_a_duplicated_key_is_an_error_not_a_silent_overwrite(tmp_path):
    # YAML would keep 48 km and drop 300 km without a word; a bench engineer would never know.
    p = write(tmp_path, "dup.yaml", """\
        name: dup
        signals:
          Vehicle.Powertrain.FuelSystem.Range: 300000
          Vehicle.Speed: 50
          Vehicle.Powertrain.FuelSystem.Range: 48000
        """)
    with pytest.raises(ConfigError) as e:
        load_scenario(p)
    assert f"{p}:5: Vehicle.Powertrain.FuelSystem.Range: duplicate key (also on line 3)" in str(e.value)


def test_a_duplicated_expectation_in_a_dialogue_suite_is_an_error(tmp_path):
    from assistant.dialogue.suite import load_suite
    p = write(tmp_path, "suite.yaml", """\
        name: dup
        scenario: low_fuel
        steps:
          - say: which tyre is low
            expect:
              contains: ["rear left"]
              contains: ["low"]
        """)
    with pytest.raises(ConfigError) as e:
        load_suite(p)
    assert f"{p}:7: contains: duplicate key (also on line 6)" in str(e.value)


@pytest.mark.parametrize("kind", ["scenario", "persona", "suite", "profile"])
def test_an_empty_user_file_is_named_as_empty(tmp_path, kind):
    from assistant.dialogue.suite import load_suite
    from assistant.persona import load_persona
    loader = {"scenario": load_scenario, "persona": load_persona, "suite": load_suite, "profile": load_profile}[kind]
    p = write(tmp_path, f"{kind}.yaml", "# nothing here yet\n")
    with pytest.raises(ConfigError) as e:
        loader(p)
    assert str(e.value) == f"{p}: file is empty"
