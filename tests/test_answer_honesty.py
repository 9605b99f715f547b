"""Answers that must not mislead: numbers bound to what they are of, unreadable values said,
no "no" without every range read, follow-ups that keep what was asked, units for every number.

Real data path (scenario -> simulator -> virtual CAN -> reader -> state -> tools); the
deterministic answers run without the model, the grounding check on real tool results.
"""

import pytest

from assistant.answer.grounding import CANT_READ_RE, check
from assistant.answer.render import Style, render
from assistant.persona import load_persona
from assistant.pipeline import Assistant
from assistant.tools.vehicle import TOOLS, VehicleView
from assistant.vehicle import LiveVehicle

from .conftest import ROOT


def verdict(text, tool, view, args=None):
    result = TOOLS[tool].call(view, args or {})
    return check(text, render([(tool, result)], Style()))


def test_grounding_binds_each_number_to_what_the_facts_say_it_is_of():
    with LiveVehicle.from_scenario("flat_tyre") as v:       # fuel 610 km / 62 %, EV 42 km / 78 %, rear left 96 kPa
        view = VehicleView.of(v.state)
        ok = [("You have about 610 km of range on fuel and 42 km on electric power.", "get_range", {}),
              ("Your rear left tyre is low at 96 kPa; the others are fine.", "get_tyre_pressures", {})]
        for text, tool, args in ok:
            assert verdict(text, tool, view, args).grounded, text
        bad = [
            # every number is in the results, each said of the wrong thing
            ("You can drive about 42 km on fuel and 610 km on electric power.", "get_range", {}, "said of"),
            ("You can drive about 610 km on fuel and 42 km on electric power, the tank is 78 % full.",
             "get_range", {}, "'78' is not in this turn's tool results"),   # a battery % the facts never state
            # LowFuel is in the range result, but OFF
            ("You can drive about 610 km on fuel and 42 km on electric power. The low fuel warning is on.",
             "get_range", {}, "LowFuel is not in the tool results"),
            ("The rear right tyre is low at 96 kPa, the others are fine.", "get_tyre_pressures", {}, "rear right"),
            ("The rear left tyre is at 96 kPa, the others are fine.", "get_tyre_pressures", {}, "'low'"),
            ("The front tyre pressure is 240 kPa, the rear tyre pressure is 240 kPa.", "get_tyre_pressures",
             {"wheel": "front"}, "said of rear"),
        ]
        for text, tool, args, problem in bad:
            v_ = verdict(text, tool, view, args)
            assert not v_.grounded and any(problem in p for p in v_.problems), (text, v_.problems)


def test_asked_about_a_battery_that_is_not_on_the_bus():
    with LiveVehicle.from_scenario("low_fuel") as v:        # fuel only: no battery signals on the bus
        a = Assistant(v.state).ask("how much battery charge is left?")
        assert a.text.startswith("I can't read the battery charge right now."), a.text
        assert "7 %" in a.text
        a = Assistant(v.state).ask("how much fuel have I got?")
        assert "7 %" in a.text and not CANT_READ_RE.search(a.text), a.text   # not asked: not said


def test_no_no_without_every_range_read(tmp_path):
    scenario = tmp_path / "ev_only_readable.yaml"
    scenario.write_text("name: ev_only_readable\nvehicle: demo\nsignals:\n"
                        "  Vehicle.Powertrain.FuelSystem.RelativeLevel: 60\n"
                        "  Vehicle.Powertrain.TractionBattery.Range: 14000\n")
    with LiveVehicle.from_scenario(str(scenario)) as v:
        a = Assistant(v.state).ask("can I reach 50 km?")
        result = next(t.result for t in a.tools if t.name == "get_range")
        assert result.can_reach is None
        assert not a.text.lower().startswith("no"), a.text
        assert "14 km" in a.text and "I can't read the fuel range" in a.text, a.text
    scenario.write_text(scenario.read_text() + "  Vehicle.Powertrain.FuelSystem.Range: 20000\n")
    with LiveVehicle.from_scenario(str(scenario)) as v:
        a = Assistant(v.state).ask("can I reach 50 km?")
        assert a.text.startswith("No, probably not: your range is about 34 km"), a.text


def test_unit_follow_ups_keep_the_wheel_and_the_topic():
    with LiveVehicle.from_scenario("flat_tyre") as v:
        assistant = Assistant(v.state)
        assert "rear left" in assistant.ask("is the back left tire flat?").text
        a = assistant.ask("and in psi?")
        assert a.route == "followup" and [t.arguments for t in a.tools if t.reason == "asked"] == [{"wheel": "rear_left"}]
        assert "14 psi" in a.text and "front" not in a.text
        assert "96 kPa" in assistant.ask("and in kPa?").text
        assistant.ask("tell me the fuel level and the tyre pressures")
        a = assistant.ask("and in bar?")        # only the tyres have pressures
        assert [t.name for t in a.tools if t.reason == "asked"] == ["get_tyre_pressures"], a.text


def test_imperial_persona_says_speed_in_mph_and_a_soft_tyre_in_two_digits_of_bar():
    with LiveVehicle.from_scenario("normal_drive") as v:
        a = Assistant(v.state, persona=load_persona(ROOT / "personas" / "aurora.yaml")).ask("how fast am I going?")
        assert "55 mph" in a.text and "km/h" not in a.text
    with LiveVehicle.from_scenario("flat_tyre") as v:
        a = Assistant(v.state, persona=load_persona(ROOT / "personas" / "lumiere.yaml")).ask("are my tyres ok?")
        assert "0,96 bar" in a.text, a.text


@pytest.mark.parametrize("mode, routes", [("auto", False), ("always", True), ("never", False)])
def test_small_model_routes_unclear_questions_only_when_told(default_model, mode, routes):
    """Measured on the blind intent set, the 135M routed model made unclear questions worse, so by
    default its pick is not used; capable models (native formats) route them."""
    from assistant.state.store import VehicleState
    old = default_model.cfg.route_unclear
    default_model.cfg.route_unclear = mode
    try:
        assistant = Assistant(VehicleState({}), default_model)
        assert (assistant._model_route is not None) == routes
    finally:
        default_model.cfg.route_unclear = old


def test_a_car_without_low_pressure_flags_never_hears_fine(tmp_path):
    """The Ford profile maps tyre pressures but no low-pressure flags: a tyre at 150 kPa must not
    be called fine (that verdict is the car's, and this car does not give it)."""
    scenario = tmp_path / "ford_soft_tyre.yaml"
    scenario.write_text("name: ford_soft_tyre\nvehicle: ford\nsignals:\n"
                        "  Vehicle.Chassis.Axle.Row1.Wheel.Left.Tire.Pressure: 230\n"
                        "  Vehicle.Chassis.Axle.Row1.Wheel.Right.Tire.Pressure: 232\n"
                        "  Vehicle.Chassis.Axle.Row2.Wheel.Left.Tire.Pressure: 150\n"
                        "  Vehicle.Chassis.Axle.Row2.Wheel.Right.Tire.Pressure: 228\n")
    with LiveVehicle.from_scenario(str(scenario)) as v:
        assistant = Assistant(v.state)
        for question in ("are my tyres ok?", "what about the rear left tyre?"):
            a = assistant.ask(question)
            assert "150 kPa" in a.text and "fine" not in a.text and "does not say whether" in a.text, a.text


def test_a_car_with_low_flags_but_no_pressures_says_which_tyre_is_low(tmp_path):
    """The Hyundai profile has per-wheel low flags but no pressures: the answer names the low tyre,
    says the pressures are not reported, and never shows a placeholder for a missing value."""
    scenario = tmp_path / "hyundai_low_tyre.yaml"
    scenario.write_text("name: hyundai_low_tyre\nvehicle: hyundai\nsignals:\n" + "".join(
        f"  Vehicle.Chassis.Axle.{row}.Wheel.{side}.Tire.IsPressureLow: {str(row == 'Row2' and side == 'Left').lower()}\n"
        for row in ("Row1", "Row2") for side in ("Left", "Right")))
    with LiveVehicle.from_scenario(str(scenario)) as v:
        a = Assistant(v.state).ask("are my tyres ok?")
        assert a.text == "The rear left tyre is low; the others are fine. This car doesn't report its tyre pressures."
        a = Assistant(v.state).ask("is the front right tyre ok?")
        assert a.text.startswith("No tyre is reported low.") and "?" not in a.text, a.text
