"""Grounded answers with the real default model over the real data path
(scenario -> simulator -> virtual CAN -> reader -> state -> tools -> model -> grounding)."""

import json
import re

import pytest

from assistant.answer.grounding import CANT_READ_RE, check_results as check
from assistant.sim.scenario import load_scenario
from assistant.pipeline import Assistant
from assistant.tools.vehicle import TOOLS, VehicleView
from assistant.vehicle import LiveVehicle

from .conftest import ROOT, run_cli, telltale_info

SCENARIOS = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
FUEL_RANGE = "Vehicle.Powertrain.FuelSystem.Range"
FUEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"
EV_RANGE = "Vehicle.Powertrain.TractionBattery.Range"
SOC = "Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed"
DIST = "Vehicle.Service.DistanceToService"
TIME = "Vehicle.Service.TimeToService"
CRITICAL = {n for n, i in telltale_info().items() if i.get("critical")}


@pytest.fixture(scope="module")
def model(default_model):
    return default_model


def numbers(text):
    return {float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text)}


def ask(model, scenario, question):
    with LiveVehicle.from_scenario(scenario) as v:
        return Assistant(v.state, model).ask(question)


def body(answer):
    """The answer without the fixed safety wording in front."""
    text = answer.text
    for s in answer.safety:
        text = text.replace(s, "")
    return text.strip()


def expect_value_or_cant_read(answer, values, present):
    text = body(answer)
    if present:
        got = numbers(text)
        for v in values:
            assert round(v) in got or v in got, f"{v} missing from {text!r} ({answer.problems})"
    else:
        assert CANT_READ_RE.search(text), text
        assert not numbers(text), f"a number for a missing signal: {text!r}"
    assert answer.grounded


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_range_answer_has_the_scenario_range(model, scenario):
    sig = load_scenario(scenario).signals
    a = ask(model, scenario, "How far can I go?")
    assert [t.name for t in a.tools if t.reason == "asked"] == ["get_range"]
    values = [sig[FUEL_RANGE] / 1000] if FUEL_RANGE in sig else []
    if EV_RANGE in sig and FUEL_RANGE in sig and sig[EV_RANGE] > 0:
        values.append(sig[EV_RANGE] / 1000)
    expect_value_or_cant_read(a, values, FUEL_RANGE in sig)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fuel_and_charge_answers(model, scenario):
    sig = load_scenario(scenario).signals
    a = ask(model, scenario, "How much fuel do I have?")
    assert [t.name for t in a.tools if t.reason == "asked"] == ["get_energy_level"]
    expect_value_or_cant_read(a, [sig[FUEL]] + ([sig[SOC]] if SOC in sig else []), FUEL in sig)
    a = ask(model, scenario, "What's the battery charge level?")
    expect_value_or_cant_read(a, [sig[SOC]] if SOC in sig else [], SOC in sig or FUEL in sig)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_service_answer(model, scenario):
    sig = load_scenario(scenario).signals
    a = ask(model, scenario, "When is my next service?")
    assert [t.name for t in a.tools if t.reason == "asked"] == ["get_service_status"]
    values = [abs(sig[DIST]), abs(sig[TIME]) / 86400] if DIST in sig else []
    expect_value_or_cant_read(a, values, DIST in sig)
    if DIST in sig and sig[DIST] < 0:
        assert "overdue" in a.text.lower()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_tyre_answer(model, scenario):
    sig = load_scenario(scenario).signals
    a = ask(model, scenario, "Are my tyres okay?")
    pressures = {k: v for k, v in sig.items() if k.endswith("Tire.Pressure")}
    low = [k for k, v in sig.items() if k.endswith("IsPressureLow") and v]
    if low:
        values = [sig[k.replace("IsPressureLow", "Pressure")] for k in low]
        assert "low" in body(a).lower()
    else:
        values = list(pressures.values())
    expect_value_or_cant_read(a, values, bool(pressures))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_warnings_answer_names_every_lamp_that_is_on(model, scenario):
    sig = load_scenario(scenario).signals
    a = ask(model, scenario, "What's that light on the dashboard?")
    on = [k.split(".")[-1] for k, v in sig.items() if k.startswith("Vehicle.Telltale.") and v != "OFF"]
    text = a.text.lower()
    for lamp in on:
        info = telltale_info()[lamp]
        if lamp in CRITICAL or (lamp == "CheckEngine" and sig[f"Vehicle.Telltale.{lamp}"] == "BLINK"):
            assert a.text.startswith(" ".join(a.safety)) and a.safety
            assert any(" ".join(info["safety"].split()) == s for s in a.safety)
        else:
            assert info["label"].lower() in text, (lamp, a.text)
    for code in sig.get("Vehicle.Diagnostics.DTCList", []):
        assert code in a.text
    if not on:
        assert "no warning lights are on" in text
    assert a.grounded


@pytest.mark.parametrize("scenario", ["oil_pressure_loss", "overheating", "charging_fault", "brake_fault",
                                      "misfire"])
@pytest.mark.parametrize("question", ["How far can I go?", "Tell me a joke", "Are my tyres okay?"])
def test_critical_lamps_always_get_the_fixed_safety_wording_first(model, scenario, question):
    sig = load_scenario(scenario).signals
    a = ask(model, scenario, question)
    expected = []
    for lamp, info in telltale_info().items():
        value = sig.get(f"Vehicle.Telltale.{lamp}")
        if (info.get("critical") and value in ("ON", "BLINK")) or \
                (info.get("blink_critical") and value == "BLINK"):
            expected.append(" ".join(info["safety"].split()))
    assert expected
    assert a.text.startswith(expected[0]), a.text
    for e in expected:
        assert e in a.text


def test_invented_number_is_caught_and_replaced(model):
    # With the coolant signal off the bus, the 135M model answers "The engine coolant is at 45 %."
    # (which phrasings make it invent depends on the prompt; this one did when last checked)
    a = ask(model, "low_fuel", "how hot is the engine")
    assert a.model_text and numbers(a.model_text), "expected the model to invent a number here"
    assert a.fallback is True
    assert any("not in this turn's tool results" in p for p in a.problems)
    assert CANT_READ_RE.search(a.text) and not numbers(a.text)


def test_grounding_check_on_real_tool_results():
    with LiveVehicle.from_scenario("flat_tyre") as v:
        view = VehicleView.of(v.state)
        results = [TOOLS["get_tyre_pressures"].call(view, {}), TOOLS["get_range"].call(view, {})]
    assert check("The rear left tyre is low at 96 kPa.", results).grounded
    assert check("The rear left tyre is at 14 psi.", results).grounded          # unit conversion
    assert check("You can drive about 610 km, or 379 miles.", results).grounded
    v = check("The rear left tyre is low at 88 kPa.", results)
    assert not v.grounded and "'88'" in v.problems[0]
    assert not check("Your check engine light is on.", results).grounded        # lamp not in results
    assert not check("Stored code P0301 explains it.", results).grounded       # invented DTC
    assert not check("It is 20 °C outside.", results).grounded                 # unit with no such value


def test_follow_ups_keep_context(model):
    with LiveVehicle.from_scenario("flat_tyre") as v:
        assistant = Assistant(v.state, model)
        a1 = assistant.ask("Is my front left tyre OK?")
        assert "240" in a1.text
        a2 = assistant.ask("what about the rear ones?")
        assert a2.tools[0].arguments == {"wheel": "rear"} and "96" in a2.text
        a3 = assistant.ask("How far can I go?")
        assert "610" in a3.text
        a4 = assistant.ask("and in miles?")
        assert a4.route == "followup" and "379" in a4.text and "mi" in a4.text


def test_off_topic_is_declined_without_numbers(model):
    a = ask(model, "normal_drive", "tell me a joke")
    assert a.route == "off_topic" and not numbers(a.text)
    assert [t.reason for t in a.tools] == ["safety"]


def test_a_command_beside_a_question_is_said_not_done_and_the_question_answered(model):
    """"Open the boot and check the tyres": the assistant never controls the car, says so first,
    and still answers the tyres from the car; a word to a child first is no command at all."""
    a = ask(model, "flat_tyre", "open the boot and check the tyres")
    assert a.text.startswith("I can't do that part") and "96" in a.text
    assert [t.name for t in a.tools if t.reason != "safety"] == ["get_tyre_pressures"]
    a = ask(model, "normal_drive", "stop it Tom! sorry. are the doors closed?")
    assert a.route == "matcher" and "can't do" not in a.text
    assert [t.name for t in a.tools if t.reason != "safety"] == ["get_body_status"]
    a = ask(model, "normal_drive", "open the boot")
    assert a.route == "off_topic" and not numbers(a.text)


def test_the_part_not_done_is_never_cut_by_a_length_cap():
    from assistant.answer.render import Rendering
    r = Rendering()
    r.add("The rear left tyre is low at 96 kPa.", primary=True)
    r.add("The others are fine at 236 to 240 kPa, checked a moment ago.")
    r.add_first("I can't do that part: I can only read the car.")
    assert r.sentences[0].startswith("I can't do that part")
    cut = r.capped(max_words=12, max_sentences=2)       # only the answer would fit
    assert "I can't do that part: I can only read the car." in cut.sentences and "96 kPa" in cut.text
    assert len(cut.sentences) == 2


def test_a_reach_question_on_the_battery_is_decided_by_the_electric_range(model):
    """A plug-in hybrid with 42 km electric and 610 km on fuel: "95 km on the battery" is a no
    (the total would have said yes), said with the electric range, then the whole picture."""
    a = ask(model, "normal_drive", "can I do 95 km on the battery?")
    call = next(t for t in a.tools if t.name == "get_range")
    assert call.arguments == {"destination_km": 95.0, "source": "battery"} and call.result.can_reach is False
    assert a.text.startswith("No, not on electric power alone") and {42, 95, 652} <= set(numbers(a.text))
    a = ask(model, "normal_drive", "can I do 30 km on battery only?")
    assert a.text.startswith("Yes, on electric power alone") and 42 in numbers(a.text)
    a = ask(model, "normal_drive", "have I got enough fuel to do 640 km?")      # fuel: the car uses both
    assert a.text.startswith("Yes") and 652 in numbers(a.text)


def test_answers_are_short(model):
    with LiveVehicle.from_scenario("normal_drive") as v:
        assistant = Assistant(v.state, model)
        for q in ["How far can I go?", "are my tyres ok", "when is the service due", "how much fuel"]:
            a = assistant.ask(q)
            assert len(re.findall(r"[.!?](?:\s|$)", a.text)) <= 2, a.text


# ----------------------------------------------------------------------------- the CLI contract

def test_ask_json_contract():
    r = run_cli("ask", "--scenario", "low_fuel", "--json", "how far can I go?")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert "48" in d["answer"]
    assert isinstance(d["grounded"], bool) and isinstance(d["fallback"], bool)
    assert d["tools"][0]["name"] == "get_range" and set(d["tools"][0]) >= {"name", "arguments", "result"}
    assert d["tools"][0]["result"]["fuel_range"]["value"] == 48
    assert d["timings_ms"]["first_token"] <= d["timings_ms"]["total"]


def test_ask_plain_text():
    r = run_cli("ask", "--scenario", "low_fuel", "how far can I go?")
    assert r.returncode == 0 and "48 km" in r.stdout


@pytest.mark.parametrize("args, message", [
    (["ask", "--scenario", "low_fuel", ""], "the question is empty"),
    (["ask", "--scenario", "low_fuel", "   "], "the question is empty"),
    (["ask", "--scenario", "low_fuel", "how far " * 400], "the question is too long"),
    (["ask", "--scenario", "no_such_scenario", "how far?"], "unknown scenario 'no_such_scenario'"),
])
def test_ask_bad_input(args, message):
    r = run_cli(*args)
    assert r.returncode == 2, r.stdout
    assert message in r.stderr and "Traceback" not in r.stderr


def test_ask_non_utf8_question():
    import subprocess
    import sys
    r = subprocess.run([sys.executable.encode(), b"-m", b"assistant", b"ask", b"--scenario", b"low_fuel",
                        b"how far \xff\xfe?"], capture_output=True, cwd=ROOT)
    assert r.returncode == 2
    assert b"not valid UTF-8" in r.stderr and b"Traceback" not in r.stderr


@pytest.mark.parametrize("content, message", [
    (b"", "is not a GGUF model file"),
    (b"GGUF" + b"\x00" * 64, "could not be loaded by llama.cpp"),
    (b"<html>not a model</html>", "is not a GGUF model file"),
])
def test_ask_broken_model_file(tmp_path, content, message):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(content)
    r = run_cli("ask", "--scenario", "low_fuel", "--model", str(bad), "how far?")
    assert r.returncode == 2
    assert str(bad) in r.stderr and message in r.stderr and "Traceback" not in r.stderr


def test_ask_missing_model_file(tmp_path):
    r = run_cli("ask", "--scenario", "low_fuel", "--model", str(tmp_path / "nope.gguf"), "how far?")
    assert r.returncode == 2 and "not found" in r.stderr and "./setup.sh" in r.stderr


def test_truncated_real_model_file(tmp_path):
    bad = tmp_path / "truncated.gguf"
    with open(ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf", "rb") as f:
        bad.write_bytes(f.read(2_000_000))
    r = run_cli("ask", "--scenario", "low_fuel", "--model", str(bad), "how far?")
    assert r.returncode == 2 and "could not be loaded" in r.stderr and "Traceback" not in r.stderr
