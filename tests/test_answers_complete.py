"""Answers say what was asked: complete, tied to the live evidence, within the length cap.

Classes of issue 12, each on the rendering (tool results built by hand, no bus) and through
``Assistant.ask`` with a constructed route over a live scenario (real DBC, real bus):
what was asked answered first (1, 2), lamps with meaning and action (3) and their live
evidence (4), the tyre lamp read OFF as the car's verdict (5), the length cap ordered by what
was asked, then safety, then the rest (6), compact can't-read (7), hybrid total and split (8),
French and Italian carrying the same facts (9). Every rendering grounds itself: no number
that is not from a tool.
"""

from __future__ import annotations

import pytest

from assistant.answer import grounding
from assistant.answer.locales import locale_texts
from assistant.answer.render import Style, render
from assistant.intent.router import Route
from assistant.persona import load_persona
from assistant.pipeline import Assistant
from assistant.state.telltales import is_critical
from assistant.tools.schemas import (Quantity, RangeResult, ServiceResult, ToolCall, TroubleCode, TyreResult, Warning,
                                     WarningsArgs, WarningsResult, Wheel)
from assistant.tools.vehicle import TOOLS
from assistant.vehicle import LiveVehicle

LANGS = ("en", "fr", "it")
TT = "Vehicle.Telltale."
OIL_LIFE = "Vehicle.Powertrain.CombustionEngine.EngineOil.LifeRemainingPercent"
DTC = "Vehicle.Diagnostics.DTCList"


def q(signal, value=None, unit=None, status="ok"):
    return Quantity(signal=signal, value=value if status == "ok" else None, unit=unit, status=status)


def lamp(name, state="ON", evidence=(), lang="en"):
    w = locale_texts(lang).telltales[name]
    critical = is_critical(name, state)
    return Warning(name=name, label=w.label, state=state, severity="critical" if critical else "warning",
                   meaning=w.meaning, action=w.action, safety_wording=w.safety if critical else None,
                   evidence=list(evidence))


def warnings(active=(), codes=(), codes_status="ok", about="all", unreadable=(), lamp_q=None):
    return WarningsResult(active=list(active), unreadable=list(unreadable),
                          trouble_codes=[TroubleCode(code=c, description=d) for c, d in codes],
                          trouble_codes_status=codes_status, lamps_reported=10, about=about, lamp=lamp_q)


def service(oil_life=q(OIL_LIFE, 64, "%"), about="all"):
    return ServiceResult(distance_to_service=q("Vehicle.Service.DistanceToService", 8200, "km"),
                         time_to_service=q("Vehicle.Service.TimeToService", 96, "d"),
                         service_due=q("Vehicle.Service.IsServiceDue", False),
                         oil_life=oil_life, oil_level=q("Vehicle.Powertrain.CombustionEngine.EngineOil.Level", "NORMAL"),
                         service_light=q(TT + "ServiceDue", "OFF"), about=about)


def rendered(tool, result, lang="en", **style):
    r = render([(tool, result)], Style(locale=lang, **style))
    # the rendering grounds itself: every number from a tool (coverage reads English words)
    v = grounding.check(r.text, r, coverage=lang == "en")
    assert v.grounded, (r.text, v.problems)
    return r


def routed(assistant: Assistant, *calls: ToolCall):
    """The assistant with a route constructed here (what the word tables will produce)."""
    assistant._route = lambda question, run: Route(list(calls), "matcher")
    return assistant


# ----------------------------------------------------------------------------- 1. what was asked, first

@pytest.mark.parametrize("lang,said", [("en", "I can't read the oil life right now."),
                                       ("fr", "Je ne peux pas lire"), ("it", "Al momento non riesco a leggere")])
def test_oil_life_asked_and_unreadable_is_said_first(lang, said):
    r = rendered("get_service_status", service(q(OIL_LIFE, status="missing"), about="oil_life"), lang)
    assert r.sentences[0].startswith(said), r.text
    assert r.cant_read and r.sentences[0] in r.primary
    assert "8200 km" in r.text                    # the rest follows


def test_oil_life_not_reported_by_the_car():
    r = rendered("get_service_status", service(q(OIL_LIFE, status="not_supported"), about="oil_life"))
    assert r.sentences[0] == "This car doesn't report its oil life.", r.text


def test_oil_life_asked_and_read_comes_before_the_service():
    r = rendered("get_service_status", service(about="oil_life"))
    assert r.sentences[0] == "Oil life is 64 %." and "8200 km" in r.sentences[1]
    # today's answer without `about`: the service first, unreadable oil life not said
    r = rendered("get_service_status", service(q(OIL_LIFE, status="missing")))
    assert r.sentences[0].startswith("Your next service is due in 8200 km") and not r.cant_read


def test_oil_level_asked_is_said_even_when_normal():
    r = rendered("get_service_status", service(about="oil_level"))
    assert r.sentences[0] == "The oil level is normal." and "oil" in r.fine


def test_codes_asked_and_unreadable_while_the_engine_lamp_is_on():
    res = warnings([lamp("CheckEngine")], codes_status="missing", about="codes")
    r = rendered("get_warnings", res)
    assert r.sentences[0] == "I can't read the trouble codes right now.", r.text
    assert "check engine light is on" in r.text
    # not asked about the codes: the lamp's evidence still says they cannot be read
    r = rendered("get_warnings", res.model_copy(update={"about": "all"}))
    assert r.sentences[0].startswith("The check engine light is on") and "can't read the trouble codes" in r.text


def test_codes_asked_through_the_pipeline_when_the_code_list_is_off_the_bus(tmp_path):
    with LiveVehicle.from_scenario("check_engine") as v:
        v.simulator.set({}, clear=[DTC])
        import time
        time.sleep(v.state.stale_after(DTC) + 0.3)
        a = routed(Assistant(v.state), ToolCall("get_warnings", {"about": "codes"})).ask("which codes are stored?")
    assert a.text.startswith("I can't read the trouble codes right now."), a.text
    assert "P0420" not in a.text and "check engine light" in a.text


# ----------------------------------------------------------------------------- 2. codes asked, none stored

@pytest.mark.parametrize("lang,none", [("en", "No trouble codes are stored."),
                                       ("fr", "Aucun code défaut n'est enregistré."),
                                       ("it", "Non ci sono codici di guasto memorizzati.")])
def test_codes_asked_none_stored(lang, none):
    r = rendered("get_warnings", warnings(about="codes"), lang)
    assert r.sentences[0] == none, r.text
    r = rendered("get_warnings", warnings([lamp("ABS", lang=lang)], about="codes"), lang)
    assert r.sentences[0] == none and locale_texts(lang).telltales["ABS"].label in r.text


def test_engine_lamp_on_with_no_codes_says_none_are_stored():
    r = rendered("get_warnings", warnings([lamp("CheckEngine")]))
    assert "No trouble codes are stored." in r.text


def test_codes_argument_through_the_pipeline():
    with LiveVehicle.from_scenario("flat_tyre") as v:           # no codes stored, tyre lamp on
        a = routed(Assistant(v.state), ToolCall("get_warnings", {"about": "codes"})).ask("any codes?")
    assert a.text.startswith("No trouble codes are stored."), a.text
    assert "tyre pressure warning" in a.text and "No warning lights" not in a.text


# ----------------------------------------------------------------------------- 3. lamps with their meaning

@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", ["ABS", "TirePressure", "ServiceDue", "LowFuel", "CheckEngine"])
def test_non_critical_lamps_say_meaning_and_action(name, lang):
    t = locale_texts(lang).telltales[name]
    r = rendered("get_warnings", warnings([lamp(name, lang=lang)]), lang)
    assert t.meaning in r.text and t.action in r.text, r.text


# ----------------------------------------------------------------------------- 4. lamps tied to their evidence

@pytest.mark.parametrize("scenario,lamp_name,said", [
    ("charging_fault", "BatteryCharge", ["11.6 V"]),
    ("overheating", "CoolantTemperature", ["121 °C"]),
    ("flat_tyre", "TirePressure", ["rear left", "low", "96 kPa"]),
    ("low_fuel", "LowFuel", ["48 km"]),
    ("check_engine", "CheckEngine", ["P0420", "P0171", "Catalyst"]),
])
@pytest.mark.parametrize("about", ["all", "lamp"])
def test_a_lamp_is_said_with_its_live_evidence(scenario, lamp_name, said, about):
    args = {} if about == "all" else {"about": lamp_name}
    with LiveVehicle.from_scenario(scenario) as v:
        res = TOOLS["get_warnings"].call(_view(v), args)
        a = routed(Assistant(v.state), ToolCall("get_warnings", args)).ask("what's that light?")
    w = next(x for x in res.active if x.name == lamp_name)
    assert w.evidence or lamp_name == "CheckEngine"
    for text in said:
        assert text in a.text, a.text
    if w.safety_wording:                         # critical: the approved wording first, then the evidence
        assert a.text.startswith(" ".join(w.safety_wording.split()))
    assert a.grounded


def _view(v):
    from assistant.tools.vehicle import VehicleView
    return VehicleView.of(v.state)


def test_evidence_that_cannot_be_read_is_left_out():
    r = rendered("get_warnings", warnings([lamp("BatteryCharge", evidence=[])]))
    assert "voltage" not in r.text and not r.cant_read


# ----------------------------------------------------------------------------- 5. the car's verdict

def _tyres(flags_status="not_supported", light="OFF", pressures=(240, 238, 236, 237), wheel="all"):
    positions = ["front left", "front right", "rear left", "rear right"]
    rows = {"front": "Row1", "rear": "Row2"}
    wheels = []
    for pos, p in zip(positions, pressures):
        row, side = pos.split()
        base = f"Vehicle.Chassis.Axle.{rows[row]}.Wheel.{side.title()}.Tire"
        wheels.append(Wheel(position=pos, pressure=q(base + ".Pressure", p, "kPa"),
                            low=q(base + ".IsPressureLow", status=flags_status)))
    if wheel != "all":
        wheels = [w for w in wheels if w.position == wheel.replace("_", " ")]
    light_q = q(TT + "TirePressure", light) if light else q(TT + "TirePressure", status="not_supported")
    return TyreResult(wheel=wheel, wheels=wheels, low_wheels=[], tyre_light=light_q)


def test_tyre_lamp_read_off_is_the_car_saying_no_tyre_is_low():
    r = rendered("get_tyre_pressures", _tyres(light="OFF"))
    assert r.text.startswith("All tyres are fine: front left 240 kPa") and "tyres" in r.fine, r.text
    assert "does not say" not in r.text
    r = rendered("get_tyre_pressures", _tyres(light="OFF", wheel="front_left"))
    assert r.text == "The front left tyre is at 240 kPa, which is fine."


def test_tyre_lamp_on_without_flags_says_the_lamp_not_a_guess():
    r = rendered("get_tyre_pressures", _tyres(light="ON", pressures=(240, 238, 150, 237)))
    assert r.sentences[0].startswith("The tyre pressure warning is on"), r.text
    assert "150 kPa" in r.text and "fine" not in r.text and "does not say" not in r.text


def test_no_lamp_and_no_flags_still_says_the_car_does_not_judge():
    r = rendered("get_tyre_pressures", _tyres(light=None))
    assert "does not say whether" in r.text and "fine" not in r.text


def test_tyre_lamp_off_through_the_pipeline(tmp_path):
    base = "Vehicle.Chassis.Axle.{}.Wheel.{}.Tire.Pressure"
    sc = tmp_path / "tpms_lamp_only.yaml"
    sc.write_text("name: tpms_lamp_only\nvehicle: demo\nsignals:\n" + "".join(
        f"  {base.format(r, s)}: {p}\n" for (r, s), p in zip(
            [("Row1", "Left"), ("Row1", "Right"), ("Row2", "Left"), ("Row2", "Right")], (240, 238, 236, 237)))
        + "  Vehicle.Telltale.TirePressure: 'OFF'\n")
    with LiveVehicle.from_scenario(str(sc)) as v:
        a = routed(Assistant(v.state), ToolCall("get_tyre_pressures", {})).ask("are my tyres ok?")
    assert a.text.startswith("All tyres are fine"), a.text


# ----------------------------------------------------------------------------- 6. the length cap

CODES = [("P0420", "Catalyst system efficiency below threshold (bank 1)"), ("P0171", "System too lean (bank 1)")]


@pytest.mark.parametrize("lang", LANGS)
def test_cap_keeps_the_codes_of_an_engine_lamp(lang):
    r = render([("get_warnings", warnings([lamp("CheckEngine", lang=lang)], codes=CODES))], Style(locale=lang))
    cut = r.capped(25, 2)
    assert "P0420" in cut.text and "P0171" in cut.text, cut.text
    assert locale_texts(lang).telltales["CheckEngine"].label in cut.text.lower()
    assert len(cut.text.split()) <= 25
    assert grounding.check(cut.text, cut, coverage=lang == "en").grounded


def test_cap_orders_what_was_asked_first_then_safety_then_the_rest():
    r = render([("get_warnings", warnings([lamp("ABS")], codes=CODES, about="codes"))], Style())
    cut = r.capped(20, 2)
    assert cut.sentences[0].startswith("Stored trouble codes: P0420 and P0171"), cut.text
    assert "ABS warning is on" in cut.sentences[1]


def test_cap_says_and_n_more_for_what_it_drops():
    many = CODES + [("P0300", "Random misfire"), ("P0301", "Cylinder 1 misfire"), ("P0128", "Thermostat")]
    r = render([("get_warnings", warnings(codes=many, about="codes"))], Style())
    cut = r.capped(15, 2)
    assert cut.sentences[0] == "Stored trouble codes: P0420, P0171, P0300 and 2 more.", cut.text
    v = grounding.check(cut.text, cut)
    assert v.grounded, v.problems                # the dropped codes are no longer key; "2" is a fact
    full = r.capped(200, 10)
    assert all(c in full.text for c, _ in many) and "more" not in full.text


def test_cap_cuts_the_rest_from_the_end():
    r = rendered("get_service_status", service(about="oil_life"))
    cut = r.capped(5, 1)
    assert cut.text == "Oil life is 64 %.", cut.text


@pytest.mark.parametrize("persona,codes", [("default", ["P0420", "P0171"]), ("lumiere", ["P0420", "P0171"]),
                                           ("vento", ["P0420", "P0171"]), ("aurora", ["P0420", "P0171"])])
def test_moving_persona_why_is_the_engine_light_on_keeps_the_codes(persona, codes):
    with LiveVehicle.from_scenario("check_engine") as v:     # 50 km/h: the moving cap
        a = routed(Assistant(v.state, persona=load_persona(persona)), ToolCall("get_warnings", {})).ask("why?")
    assert a.driving == "moving"
    for c in codes:
        assert c in a.text, a.text


@pytest.mark.parametrize("persona", ["default", "vento"])
def test_safety_wording_first_and_never_cut_with_its_evidence(persona):
    with LiveVehicle.from_scenario("charging_fault") as v:
        a = routed(Assistant(v.state, persona=load_persona(persona)),
                   ToolCall("get_warnings", {"about": "BatteryCharge"})).ask("what's that red light?")
    assert a.safety and a.text.startswith(a.safety[0]), a.text
    assert "11,6 V" in a.text or "11.6 V" in a.text


# ----------------------------------------------------------------------------- 7. compact can't-read

def test_one_lamp_asked_names_only_that_lamp():
    others = ["CheckEngine", "OilPressure", "BatteryCharge", "BrakeSystem", "CoolantTemperature", "LowFuel",
              "Airbag", "ServiceDue"]
    res = warnings(unreadable=others, about="ABS", lamp_q=q(TT + "ABS", "OFF"))
    r = rendered("get_warnings", res)
    assert r.text == "The ABS warning is off.", r.text
    res = warnings(unreadable=others + ["ABS"], about="ABS", lamp_q=q(TT + "ABS", status="stale"))
    r = rendered("get_warnings", res)
    assert r.text == "I can't read the ABS warning right now.", r.text
    res = warnings(about="ABS", lamp_q=q(TT + "ABS", status="not_supported"))
    assert rendered("get_warnings", res).text == "This car doesn't report its ABS warning."


@pytest.mark.parametrize("lang", ["fr", "it"])
def test_one_lamp_off_and_not_reported_in_other_languages(lang):
    label = locale_texts(lang).telltales["ABS"].label
    r = rendered("get_warnings", warnings(about="ABS", lamp_q=q(TT + "ABS", "OFF")), lang)
    assert label in r.text and ("éteint" in r.text or "spenta" in r.text), r.text
    r = rendered("get_warnings", warnings(about="ABS", lamp_q=q(TT + "ABS", status="not_supported")), lang)
    assert label in r.text and r.cant_read


def test_one_lamp_asked_still_says_other_lamps_that_are_on():
    res = warnings([lamp("LowFuel")], about="ABS", lamp_q=q(TT + "ABS", "OFF"))
    r = rendered("get_warnings", res)
    assert r.sentences[0] == "The ABS warning is off." and "low fuel warning is on" in r.text


# ----------------------------------------------------------------------------- 8. hybrids

def _range(dest=None, can_reach=None):
    return RangeResult(fuel_range=q("Vehicle.Powertrain.FuelSystem.Range", 110, "km"),
                       fuel_level=q("Vehicle.Powertrain.FuelSystem.RelativeLevel", 20, "%"),
                       ev_range=q("Vehicle.Powertrain.TractionBattery.Range", 40, "km"),
                       battery_level=q("Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed", 50, "%"),
                       low_fuel_light=q(TT + "LowFuel", "OFF"), destination_km=dest, can_reach=can_reach)


@pytest.mark.parametrize("lang,total", [("en", "150 km in all"), ("fr", "150 km d'autonomie au total"),
                                        ("it", "150 km di autonomia in totale")])
def test_hybrid_says_the_total_and_the_split(lang, total):
    r = rendered("get_range", _range(), lang)
    assert total in r.text and "110 km" in r.text and "40 km" in r.text, r.text


def test_hybrid_reach_answer_is_checkable():
    r = rendered("get_range", _range(dest=200, can_reach=False))
    assert r.text == ("No, probably not: your range is about 150 km, less than the 200 km you need. "
                      "That is 110 km on fuel and 40 km on electric power."), r.text
    # a model wording of the split alone is grounded (the total is not key), one swapping it is not
    assert grounding.check("No, probably not: 150 km in all, less than the 200 km you need; 110 km on fuel "
                           "and 40 km on electric power.", r).grounded
    assert not grounding.check("No: 40 km on fuel and 110 km on electric power, 150 km, less than 200 km.",
                               r).grounded


# ----------------------------------------------------------------------------- 9. French and Italian

def _facts(r):
    return ({f.value for f in r.facts if f.kind in ("code", "position", "lamp", "verdict")},
            {round(f.value, 1) for f in r.numbers() if f.key}, r.cant_read)


@pytest.mark.parametrize("result,tool", [
    (warnings([lamp("CheckEngine")], codes=CODES), "get_warnings"),
    (warnings([lamp("CheckEngine")], codes_status="stale", about="codes"), "get_warnings"),
    (warnings([lamp("BatteryCharge", evidence=[q("Vehicle.LowVoltageBattery.CurrentVoltage", 11.6, "V")])]),
     "get_warnings"),
    (warnings([lamp("LowFuel", evidence=[q("Vehicle.Powertrain.FuelSystem.Range", 48, "km")])]), "get_warnings"),
    (service(q(OIL_LIFE, status="missing"), about="oil_life"), "get_service_status"),
    (_range(), "get_range"),
    (_tyres(light="ON", pressures=(240, 238, 150, 237)), "get_tyre_pressures"),
])
def test_french_and_italian_carry_the_same_facts(result, tool):
    en = _facts(rendered(tool, result, "en"))
    for lang in ("fr", "it"):
        other = rendered(tool, result, lang, pressure="kPa")
        assert _facts(other) == en, (lang, other.text)


def test_french_numbers_in_the_persona_format():
    with LiveVehicle.from_scenario("charging_fault") as v:
        a = routed(Assistant(v.state, persona=load_persona("lumiere")), ToolCall("get_warnings", {})).ask("?")
    assert "11,6 V" in a.text, a.text


def test_new_arguments_default_to_todays_behaviour():
    assert WarningsArgs().about == "all"
    assert TOOLS["get_service_status"].args().about == "all"
    with pytest.raises(ValueError):
        WarningsArgs(about="Headlights")
    schema = TOOLS["get_warnings"].schema()["function"]["parameters"]
    assert "about" in schema["properties"] and not schema.get("required")
