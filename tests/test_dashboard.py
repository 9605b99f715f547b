"""The whole dashboard (issue 13): the telltale catalogue, lamps found by colour and shape, and
more of the car (doors, bonnet, tailgate, seat belts, parking brake, gear, outside temperature,
washer fluid, brake pads, AdBlue, charging).

Real parts throughout: the demo DBC and profile, cantools encode -> python-can virtual bus ->
reader -> state, the word tables, the tools, the renderer, the pipeline (no model: the answer is
the deterministic rendering, which is what the model's wording is grounded against).
"""

from __future__ import annotations

import time

import can
import pytest

from assistant.alerts import AlertMonitor
from assistant.answer.locales import LOCALES_DIR, load_locale, locale_texts
from assistant.answer.render import Style
from assistant.can.bus import BusConfig
from assistant.can.profile import load_profile
from assistant.can.reader import BusReader
from assistant.configfile import ConfigError
from assistant.intent.matcher import match
from assistant.pipeline import Assistant
from assistant.sim.scenario import Scenario
from assistant.sim.simulator import Simulator
from assistant.state.signals import CATALOG, TELLTALES, Kind
from assistant.state.store import OK, VehicleState
from assistant.state.telltales import SHAPES, best_fits, critical_lamps, is_indicator, policy
from assistant.tools.vehicle import TOOLS, VehicleView
from assistant.vehicle import LiveVehicle

LANGS = ("en", "fr", "it")
TT = "Vehicle.Telltale."
NEW_LAMPS = ("StabilityControl", "StabilityControlOff", "PowerSteering", "SeatBelt", "DoorOpen", "BonnetOpen",
             "TailgateOpen", "ParkingBrake", "WasherFluid", "BrakePadWear", "GlowPlug", "ParticulateFilter", "AdBlue",
             "EngineOilLevel", "Transmission", "HighVoltageSystem", "ReducedPower", "ExteriorLightFault",
             "FrostWarning", "KeyBattery", "DriverAssistance", "HighBeam", "FogLight")
NEW_SIGNALS = [n for n in CATALOG if n.startswith(("Vehicle.Cabin.", "Vehicle.Body.", "Vehicle.Exterior.",
                                                   "Vehicle.Chassis.ParkingBrake", "Vehicle.Powertrain.Transmission.",
                                                   "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.",
                                                   "Vehicle.Powertrain.TractionBattery.Charging."))
              or n.endswith(".Brake.IsBrakesWorn")] + [TT + n for n in NEW_LAMPS]


def ask(scenario: str, question: str, lang: str = "en") -> str:
    with LiveVehicle.from_scenario(scenario) as v:
        return Assistant(v.state, style=Style(locale=lang)).ask(question).text


def state_with(values: dict, profile: str = "demo") -> VehicleState:
    st = VehicleState.for_profile(load_profile(profile))
    now = st.clock()
    for name, value in values.items():
        st.update(name, value, now, "test")
    return st


ALL_OFF = {TT + n: "OFF" for n in TELLTALES}


# ----------------------------------------------------------------------------- the catalogue

def test_catalogue_has_the_issue_lamps_each_with_policy_and_words_in_every_language():
    assert set(NEW_LAMPS) <= set(TELLTALES) and len(TELLTALES) == 33
    table = policy()
    for name in TELLTALES:
        p = table[name]
        assert p.why and p.colour and p.shape, name
        for lang in LANGS:
            w = locale_texts(lang).telltales[name]
            assert w.label and w.symbol and w.meaning and w.action, (lang, name)
    # decided with care: what is critical, and the indicators that are never warnings
    assert {"PowerSteering", "HighVoltageSystem"} <= set(critical_lamps())
    assert not {"SeatBelt", "DoorOpen", "BrakePadWear", "HighBeam", "FogLight", "WasherFluid"} & set(critical_lamps())
    assert [n for n in TELLTALES if is_indicator(n)] == ["HighBeam", "FogLight"]
    for lang in LANGS:
        for name in critical_lamps():
            assert locale_texts(lang).telltales[name].safety, (lang, name)


def test_a_locale_missing_a_lamps_symbol_is_refused_with_file_and_line(tmp_path):
    text = (LOCALES_DIR / "it.yaml").read_text(encoding="utf-8")
    broken = text.replace('    symbol: "un fulmine con un punto esclamativo"\n', "", 1)
    assert broken != text
    path = tmp_path / "it.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_locale(path)
    assert "it.yaml:" in str(e.value) and "HighVoltageSystem" in str(e.value) and "symbol" in str(e.value)


def test_every_canonical_signal_is_on_the_demo_profile():
    assert set(load_profile("demo").mappings) == set(CATALOG)


def _value_for(name: str, pick: int):
    spec = CATALOG[name]
    if spec.kind is Kind.BOOL:
        return bool(pick)
    if spec.kind is Kind.ENUM:
        return spec.values[(1 + pick * 3) % len(spec.values)]
    return {"°C": (-12.5, 31.0), "%": (4.0, 80.0), "m": (350000.0, 12000.0), "s": (2700.0, 600.0)}[spec.unit][pick]


@pytest.mark.parametrize("pick", [0, 1])
def test_every_new_lamp_and_signal_round_trips_through_the_demo_dbc(channel, pick):
    """cantools encode -> virtual bus -> BusReader (cantools decode) -> state, for each one."""
    profile = load_profile("demo")
    values = {n: _value_for(n, pick) for n in NEW_SIGNALS}
    state = VehicleState.for_profile(profile)
    with BusReader(BusConfig(interface="virtual", channel=channel), profile, state) as reader:
        assert reader.connected.wait(2)
        tx = can.Bus(interface="virtual", channel=channel)
        try:
            with Simulator(tx, profile, Scenario(name="rt", vehicle="demo", signals=values)):
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline and not all(
                        r.status == OK for r in state.snapshot(list(values)).values()):
                    time.sleep(0.02)
        finally:
            tx.shutdown()
    got = state.snapshot(list(values))
    for name, value in values.items():
        assert got[name].status == OK, (name, got[name])
        assert got[name].value == pytest.approx(value, abs=0.6) if isinstance(value, float) else \
            got[name].value == value, (name, value, got[name].value)


# ----------------------------------------------------------------------------- colour and shape

@pytest.mark.parametrize("question, lamp", [
    ("what's the orange light shaped like an engine?", "CheckEngine"),
    ("what's the red one like a thermometer?", "CoolantTemperature"),
    ("what's the yellow symbol with a car and wavy lines", "StabilityControl"),
    ("C'est quoi le voyant orange en forme de moteur ?", "CheckEngine"),
    ("le voyant rouge qui ressemble à un thermomètre ?", "CoolantTemperature"),
    ("cos'è il simbolo giallo con un'auto e delle onde?", "StabilityControl"),
    ("cos'è la spia arancione a forma di motore?", "CheckEngine"),
])
def test_a_lamp_described_by_colour_and_shape_is_routed_with_typed_arguments(question, lamp):
    (call,) = match(question)
    assert call.name == "get_warnings" and call.arguments["about"] == lamp
    assert call.arguments["colour"] in ("amber", "red") and call.arguments["shape"]
    TOOLS["get_warnings"].args.model_validate(call.arguments)       # the model's grammar sees the same schema


def test_best_fit_tolerates_a_stray_shape_word_but_not_the_wrong_colour():
    assert best_fits(TELLTALES, "amber", ["tyre", "exclamation", "person"]) == ["TirePressure"]
    assert best_fits(TELLTALES, "red", ["engine"]) == []
    assert "HighBeam" in best_fits(TELLTALES, "blue", [])
    assert set(SHAPES) >= {s for n in TELLTALES for s in policy()[n].shape}


def test_described_lamp_is_found_among_the_lamps_that_are_on():
    text = ask("winter_warnings", "what's the yellow symbol with a car and wavy lines?")
    assert text.startswith("The stability control light is flashing: "), text
    text = ask("winter_warnings", "what is the blue light?")
    assert text.startswith("The blue light showing a headlamp with straight beams is the high beam indicator."), text


def test_no_lamp_on_fits_the_description_says_so_and_lists_what_is_on():
    st = state_with({**ALL_OFF, TT + "ABS": "ON", TT + "HighBeam": "ON"})
    r = TOOLS["get_warnings"].call(VehicleView.of(st), {"colour": "red"})
    assert r.matches == []
    text = Assistant(st).ask("why is there a red light on the dashboard?").text
    assert text.startswith("None of the lights that are on now looks like that. On now: the ABS warning (the letters "
                           "ABS in a circle) and the high beam indicator"), text


def test_an_unreadable_lamp_that_fits_is_named_not_ruled_out():
    values = dict(ALL_OFF)
    del values[TT + "CoolantTemperature"]                       # never received
    st = state_with({**values, TT + "ABS": "ON"})
    r = TOOLS["get_warnings"].call(VehicleView.of(st), {"colour": "red", "shape": ["thermometer"]})
    assert r.matches == [] and r.unreadable_matches == ["CoolantTemperature"]
    text = Assistant(st).ask("why is there a red light on the dashboard?").text
    assert "None of the lights that are on now looks like that." in text


@pytest.mark.parametrize("lang, said", [
    ("en", "None of the lights that are on now looks like that."),
    ("fr", "Aucun des voyants allumés en ce moment ne ressemble à cela."),
    ("it", "Nessuna delle spie accese in questo momento somiglia a questa."),
])
def test_described_answers_in_every_language(lang, said):
    st = state_with({**ALL_OFF, TT + "FrostWarning": "ON"})
    q = {"en": "why is there a red light on?", "fr": "pourquoi y a-t-il un voyant rouge ?",
         "it": "perché c'è una spia rossa accesa?"}[lang]
    text = Assistant(st, style=Style(locale=lang)).ask(q).text
    assert text.startswith(said), text
    assert locale_texts(lang).telltales["FrostWarning"].label in text


# ----------------------------------------------------------------------------- the all-clear with 33 lamps

def test_all_clear_with_the_whole_catalogue_and_an_indicator_on():
    st = state_with({**ALL_OFF, TT + "HighBeam": "ON"})
    r = TOOLS["get_warnings"].call(VehicleView.of(st), {})
    assert r.lamps_reported == 33 and r.all_clear and [w.name for w in r.indicators] == ["HighBeam"]
    assert Assistant(st).ask("any warning lights on?").text == \
        "No warning lights are on. The high beam indicator is on: the high beam is on; dip it for oncoming traffic."


def test_one_catalogue_lamp_unread_blocks_the_all_clear():
    values = dict(ALL_OFF)
    del values[TT + "PowerSteering"]
    r = TOOLS["get_warnings"].call(VehicleView.of(state_with(values)), {})
    assert not r.all_clear and r.unreadable == ["PowerSteering"]


def test_every_new_lamp_is_explained_in_every_language():
    for lang in LANGS:
        for name in NEW_LAMPS:
            st = state_with({**ALL_OFF, TT + name: "ON"})
            text = Assistant(st, style=Style(locale=lang)).ask("any warning lights?" if lang == "en" else
                                                               {"fr": "des voyants allumés ?",
                                                                "it": "ci sono spie accese?"}[lang]).text
            w = locale_texts(lang).telltales[name]
            if is_indicator(name):          # explained after the all-clear, never as a warning
                clear = Assistant(state_with(ALL_OFF), style=Style(locale=lang)).ask(
                    {"en": "any warning lights?", "fr": "des voyants allumés ?", "it": "ci sono spie accese?"}[lang]).text
                assert text.startswith(clear) and w.meaning in text, (lang, name, text)
                continue
            said = " ".join(w.safety.split()) if w.safety else w.meaning
            assert said in text, (lang, name, text)


def test_new_critical_lamp_is_announced_with_its_safety_wording():
    st = state_with({**ALL_OFF})
    got = []
    mon = AlertMonitor(st, on_alert=got.append)
    mon.poll()
    st.update(TT + "HighVoltageSystem", "ON", st.clock(), "test")
    mon.poll()
    assert [(a.lamp, a.critical) for a in got] == [("HighVoltageSystem", True)]
    assert got[0].text == " ".join(locale_texts("en").telltales["HighVoltageSystem"].safety.split())


# ----------------------------------------------------------------------------- more of the car

@pytest.mark.parametrize("question, call", [
    ("is a door open?", ("get_body_status", {"about": "doors"})),
    ("is everything closed?", ("get_body_status", {"about": "openings"})),
    ("is the handbrake on?", ("get_body_status", {"about": "parking_brake"})),
    ("is the boot open?", ("get_body_status", {"about": "tailgate"})),
    ("are the seat belts fastened?", ("get_body_status", {"about": "belts"})),
    ("are my brake pads worn?", ("get_body_status", {"about": "brake_pads"})),
    ("how long until it's charged?", ("get_charging_status", {})),
    ("is the car charging?", ("get_charging_status", {})),
    ("how much AdBlue is left?", ("read_signal", {"name": "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Level"})),
    ("what gear am I in?", ("read_signal", {"name": "Vehicle.Powertrain.Transmission.SelectedGear"})),
    ("how cold is it outside?", ("read_signal", {"name": "Vehicle.Exterior.AirTemperature"})),
    ("is the washer fluid low?", ("read_signal", {"name": "Vehicle.Body.Windshield.Front.WasherFluid.IsLevelLow"})),
    ("une porte est ouverte ?", ("get_body_status", {"about": "doors"})),
    ("le frein à main est serré ?", ("get_body_status", {"about": "parking_brake"})),
    ("combien de temps avant la fin de la charge ?", ("get_charging_status", {})),
    ("il reste combien d'AdBlue ?", ("read_signal", {"name": "Vehicle.Powertrain.CombustionEngine.DieselExhaustFluid.Level"})),
    ("quelle température fait-il dehors ?", ("read_signal", {"name": "Vehicle.Exterior.AirTemperature"})),
    ("c'è una porta aperta?", ("get_body_status", {"about": "doors"})),
    ("il freno a mano è tirato?", ("get_body_status", {"about": "parking_brake"})),
    ("quanto manca alla fine della ricarica?", ("get_charging_status", {})),
    ("che marcia ho inserito?", ("read_signal", {"name": "Vehicle.Powertrain.Transmission.SelectedGear"})),
])
def test_drivers_questions_about_more_of_the_car_are_routed(question, call):
    got = match(question)
    assert [(c.name, c.arguments) for c in got] == [call], got


def test_everything_closed_only_with_every_opening_read_fresh():
    assert ask("all_closed", "is everything closed?") == \
        "Everything is closed: driver's door, front passenger door, rear door on the driver's side, rear door on " \
        "the passenger's side, bonnet and tailgate."
    text = ask("doors_open", "is everything closed?")
    assert text.startswith("Open now: front passenger door and tailgate."), text
    assert "I can't read the bonnet right now." in text and "Everything is closed" not in text


def test_a_stale_door_is_never_called_closed():
    with LiveVehicle.from_scenario("all_closed") as v:
        door = "Vehicle.Cabin.Door.Row2.PassengerSide.IsOpen"
        v.simulator.set({}, clear=[n for n in v.simulator.values if n.startswith(("Vehicle.Cabin.", "Vehicle.Body.",
                                                                                  "Vehicle.Chassis.ParkingBrake",
                                                                                  "Vehicle.Powertrain.Transmission",
                                                                                  "Vehicle.Exterior"))])
        time.sleep(v.state.stale_after(door) + 0.3)
        text = Assistant(v.state).ask("are all the doors closed?").text
    assert "closed" not in text.lower().replace("can't read", ""), text
    assert text.startswith("I can't read the driver's door, front passenger door, rear door on the driver's side "
                           "and rear door on the passenger's side right now."), text


def test_a_car_without_body_signals_says_it_does_not_report_them():
    st = state_with({}, profile="toyota_rav4")
    st.capabilities = [c for c in st.capabilities if ".Door." not in c]
    text = Assistant(st).ask("is a door open?").text
    assert text == "This car doesn't report its doors.", text


def test_a_car_with_front_doors_only_never_says_everything_is_closed():
    st = state_with({"Vehicle.Cabin.Door.Row1.DriverSide.IsOpen": False,
                     "Vehicle.Cabin.Door.Row1.PassengerSide.IsOpen": False}, profile="peugeot_208")
    text = Assistant(st).ask("are all the doors closed?").text
    assert text == "Closed: driver's door and front passenger door. This car doesn't report its rear door on the " \
                   "driver's side and rear door on the passenger's side.", text


@pytest.mark.parametrize("lang, question, said", [
    ("en", "is the handbrake on?", "The parking brake is on."),
    ("fr", "le frein à main est serré ?", "Le frein de stationnement est serré."),
    ("it", "il freno a mano è tirato?", "Il freno di stazionamento è inserito."),
    ("en", "are the seat belts fastened?", "The front passenger's seat belt is not fastened."),
    ("fr", "les ceintures sont bouclées ?", "La ceinture du passager avant n'est pas bouclée."),
    ("it", "le cinture sono allacciate?", "La cintura del passeggero anteriore non è allacciata."),
    ("en", "what gear am I in?", "The car is in park."),
    ("it", "che marcia ho inserito?", "L'auto è in parcheggio (P)."),
    ("en", "how cold is it outside?", "The outside temperature is -3 °C."),
])
def test_body_answers_in_every_language(lang, question, said):
    text = ask("doors_open", question, lang)
    assert text.startswith(said), text


@pytest.mark.parametrize("lang, said", [
    ("en", "The car is charging. The battery is at 55 %. Charging will be complete in about 45 min. "
           "The charge limit is set to 80 %."),
    ("fr", "La voiture est en charge. La batterie est chargée à 55 %. La charge sera terminée dans environ 45 min. "
           "La limite de charge est réglée à 80 %."),
    ("it", "L'auto è in carica. La batteria è carica al 55 %. La ricarica sarà completa tra circa 45 min. "
           "Il limite di carica è impostato a 80 %."),
])
def test_charging_answer(lang, said):
    q = {"en": "how long until it's charged?", "fr": "combien de temps avant la fin de la charge ?",
         "it": "quanto manca alla fine della ricarica?"}[lang]
    assert ask("ev_charging", q, lang) == said


def test_charging_time_never_received_is_said_unreadable_not_guessed():
    text = ask("all_closed", "how long until it's charged?")
    assert text == "The charging cable is not connected. The charge limit is set to 90 %.", text
    st = state_with({"Vehicle.Powertrain.TractionBattery.Charging.IsCharging": True})
    text = Assistant(st).ask("how long until it's charged?").text
    assert text == "The car is charging. I can't read the time until charging is complete right now.", text


def test_adblue_answer_with_its_lamp_and_range():
    assert ask("winter_warnings", "how much AdBlue is left?") == "The AdBlue level is 4 %."
    assert ask("winter_warnings", "how far can I go on AdBlue?") == "The range on the AdBlue left is 350 km."
    text = ask("winter_warnings", "what does the AdBlue light mean?")
    assert text.startswith("The AdBlue warning is on: the AdBlue (diesel exhaust fluid) is low"), text


def test_brake_pads_answer_names_the_worn_wheel():
    assert ask("winter_warnings", "are my brake pads worn?") == "The front left brake pads are worn; have them replaced soon."
    assert ask("all_closed", "are my brake pads worn?") == "No brake pad is reported worn."


@pytest.mark.parametrize("question, wrong", [
    ("are the seat belts fastened?", "The seat belts are fastened."),          # seen from the 135M model
    ("is the handbrake on?", "The parking brake is off."),
    ("is everything closed?", "Everything is closed."),
    ("what gear am I in?", "The car is in drive."),
])
def test_a_rewording_that_flips_a_body_state_is_refused(question, wrong):
    from assistant.answer import grounding
    from assistant.answer.render import render
    with LiveVehicle.from_scenario("doors_open") as v:
        view = VehicleView.of(v.state)
        (call,) = match(question)
        rendering = render([(call.name, TOOLS[call.name].call(view, call.arguments))], Style())
    assert grounding.check(rendering.text, rendering).grounded, rendering.text
    assert not grounding.check(wrong, rendering).grounded, (wrong, rendering.text)
