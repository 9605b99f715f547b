"""The dialogue-suite runner itself: malformed files, expectations that fail, JUnit, Pass^k."""

import textwrap
import xml.etree.ElementTree as ET

import pytest

from assistant.configfile import ConfigError
from assistant.dialogue.runner import Summary, SuiteRun, TurnResult, check_turn, write_junit
from assistant.dialogue.suite import Expect, load_suite

from .conftest import run_cli


def write(tmp_path, text, name="suite.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


@pytest.mark.parametrize("body, expected", [
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: how far?
            expect: {tools: [get_rnage]}
        """, ":5: steps.0.expect.tools.0: unknown tool 'get_rnage'"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: how far?
          - say: and now?
            expect: {contains: "48"}
        """, ":6: steps.1.expect.contains: Input should be a valid list"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - set: {Vehicle.Telltale.OilPressure: MAYBE}
        """, ":4: steps.0.set.Vehicle.Telltale.OilPressure: expected one of OFF, ON, BLINK"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - expect: {tools: []}
        """, ":4: steps.0: a step needs one of: say, set, clear, advance, wait"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: hi
            wait: 2
        """, ":4: steps.0: Value error, a `say` step cannot also wait"),
    ("name: x\nscenario: low_fuel\nsteps: []\n", ":3: steps: List should have at least 1 item"),
])
def test_malformed_suite_names_file_step_and_field(tmp_path, body, expected):
    p = write(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        load_suite(p)
    assert any(f"{p}{expected}".replace("Value error, ", "") in prob.replace("Value error, ", "")
               for prob in e.value.problems), e.value.problems


def test_cli_rejects_a_malformed_suite_before_running(tmp_path):
    p = write(tmp_path, "name: x\nscenario: low_fuel\nsteps:\n  - say: hi\n    expect: {toolz: []}\n")
    r = run_cli("dialogue", "run", str(p), "--no-model")
    assert r.returncode == 2 and f"{p}:5: steps.0.expect.toolz: unknown field" in r.stderr


def test_wrong_expectations_fail_and_right_ones_pass(tmp_path):
    p = write(tmp_path, """\
        name: runner check
        scenario: {signals: {Vehicle.Powertrain.FuelSystem.Range: 48000, Vehicle.Speed: 30}}
        steps:
          - say: how far can I go?
            expect: {tools: [get_range], numbers: [{value: 48, unit: km}], cant_read: false, max_words: 30}
          - say: how far can I go?
            expect: {tools: [get_warnings], numbers: [{value: 50, unit: km}], contains: [miles]}
          - say: are my tyres ok?
            expect: {cant_read: true, no_numbers: true}
          - clear: [Vehicle.Powertrain.FuelSystem.Range]
          - wait: 2.7
          - say: how far can I go?
            expect: {cant_read: true, no_numbers: true}
        """)
    results = SuiteRun(load_suite(p), p, model=None).run()
    assert [r.passed for r in results] == [True, False, True, True]
    assert set(results[1].failures) == {"tools: expected ['get_warnings'], got ['get_range']",
                                        "no number 50 km (±0.5)", "does not contain 'miles'"}


def test_pass_k_and_junit(tmp_path):
    def result(i, ok):
        r = TurnResult("s", "f.yaml", i, f"q{i}")
        r.failures = [] if ok else ["nope"]
        return r
    summary = Summary([[result(0, True), result(1, True)], [result(0, True), result(1, False)]])
    assert summary.pass_rate == 1.0 and summary.pass_k == 0.5
    out = tmp_path / "r.xml"
    write_junit(summary, out)
    root = ET.parse(out).getroot()
    assert root.get("tests") == "2" and root.get("failures") == "1"
    (case,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert case.get("name") == "step 1: q1" and "failed in 1 of 2 run(s)" in case.find("failure").text


def test_check_turn_safety_and_words():
    class A:
        text = "Warning: oil pressure is low. Stop. You can drive about 48 km."
        safety = ["Warning: oil pressure is low."]
        tools, grounded, fallback, route, timings_ms = [], True, True, "matcher", {"total": 10}
    fails, _ = check_turn(Expect(safety=True, max_words=7, numbers=[{"value": 48, "unit": "km"}]), A())
    assert fails == []
    fails, _ = check_turn(Expect(safety=False, max_words=3), A())
    assert fails == ["unexpected safety wording", "7 words (max 3)"]   # "Stop." is outside the safety list
