"""The dialogue-suite runner itself: malformed files, expectations that fail, JUnit, Pass^k."""

import textwrap
import xml.etree.ElementTree as ET

import pytest

from assistant.configfile import ConfigError
from assistant.dialogue.runner import Summary, SuiteRun, TurnResult, check_turn, write_junit
from assistant.dialogue.suite import Expect, load_suite

from .conftest import ROOT, run_cli


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
        """, ':5: step 1 (turn 1, "how far?"): expect.tools.0: unknown tool \'get_rnage\''),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: how far?
          - say: and now?
            expect: {contains: "48"}
        """, ':6: step 2 (turn 2, "and now?"): expect.contains: Input should be a valid list'),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - set: {Vehicle.Telltale.OilPressure: MAYBE}
        """, ":4: step 1 (set, after the last turn): set.Vehicle.Telltale.OilPressure: expected one of OFF, ON, BLINK"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - expect: {tools: []}
        """, ":4: step 1: a step needs one of: say, set, clear, advance, wait"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: hi
            wait: 2
        """, ':4: step 1 (turn 1, "hi"): a `say` step cannot also wait'),
    ("name: x\nscenario: low_fuel\nsteps: []\n", ":3: steps: List should have at least 1 item"),
    # steps and turns counted from 1 as a suite author reads the file; `set`/`wait` steps say
    # which turn they come before
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: hi
          - set: {Vehicle.Speed: 0}
          - wait: 1
          - say: how far can I go?
            expect:
              numbers: [{value: 48, unit: furlong}]
        """, ':9: step 4 (turn 2, "how far can I go?"): expect.numbers.0.unit: unknown unit \'furlong\''),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: hi
          - clear: [Vehicle.Sped]
          - say: again
        """, ":5: step 2 (clear, before turn 2): clear.0: unknown signal 'Vehicle.Sped'"),
    ("""\
        name: x
        scenario: low_fuel
        steps:
          - say: how far?
            expect: {numbers: [{value: 48, unit: m}]}
        """, ":5: step 1 (turn 1, \"how far?\"): expect.numbers.0.unit: unit 'm' never appears in answers"),
    # the scenario and persona are checked at load, at their line
    ("""\
        name: x
        scenario: low_fuel
        persona: nosuchpersona
        steps:
          - say: hi
        """, ":3: persona: unknown persona 'nosuchpersona' (shipped: aurora, default"),
    ("""\
        name: x
        scenario: no_such_scenario
        steps:
          - say: hi
        """, ":2: scenario: unknown scenario 'no_such_scenario'"),
    ("""\
        name: x
        scenario:
          signals:
            Vehicle.Speed: 30
            Vehicle.Telltale.OilPresure: "ON"
        steps:
          - say: hi
        """, ":5: scenario.signals.Vehicle.Telltale.OilPresure: unknown signal 'Vehicle.Telltale.OilPresure'"),
    ("""\
        name: x
        scenario:
          signals: {Vehicle.Speed: 30}
          timeline:
            - at: 5
              set: {Vehicle.Speed: fast}
        steps:
          - say: hi
        """, ":6: scenario.timeline.0.set.Vehicle.Speed: expected a number in km/h, got 'fast'"),
])
def test_malformed_suite_names_file_step_and_field(tmp_path, body, expected):
    p = write(tmp_path, body)
    with pytest.raises(ConfigError) as e:
        load_suite(p)
    assert any(f"{p}{expected}".replace("Value error, ", "") in prob.replace("Value error, ", "")
               for prob in e.value.problems), e.value.problems


def test_every_problem_of_a_suite_at_once(tmp_path):
    p = write(tmp_path, """\
        name: x
        scenario: low_fuel
        persona: nosuchpersona
        steps:
          - say: hi
            expect: {numbers: [{value: 1, unit: furlong}]}
        """)
    with pytest.raises(ConfigError) as e:
        load_suite(p)
    assert [x.split(": ")[1] for x in e.value.problems] == ['step 1 (turn 1, "hi")', "persona"], e.value.problems


def test_a_bad_persona_file_is_named_with_its_own_lines(tmp_path):
    (tmp_path / "brand.yaml").write_text("name: B\nunits: {distance: furlong}\n")
    p = write(tmp_path, "name: x\nscenario: low_fuel\npersona: brand.yaml\nsteps:\n  - say: hi\n")
    with pytest.raises(ConfigError) as e:
        load_suite(p)
    assert e.value.problems[0] == f"{p}:3: persona: persona 'brand.yaml' has errors:"
    assert e.value.problems[1].startswith(f"{tmp_path / 'brand.yaml'}:2: units.distance:")


def test_shipped_suites_load_with_their_scenario_and_persona_checked():
    from assistant.dialogue.suite import suite_files
    files = suite_files([ROOT / "tests" / "dialogues"])
    assert files
    for f in files:
        suite = load_suite(f)
        assert suite._scenario is not None and len(suite._step_lines) == len(suite.steps)
        assert (suite._persona_path is not None) == bool(suite.persona)


def test_cli_rejects_a_malformed_suite_before_running(tmp_path):
    p = write(tmp_path, "name: x\nscenario: low_fuel\nsteps:\n  - say: hi\n    expect: {toolz: []}\n")
    r = run_cli("dialogue", "run", str(p), "--no-model")
    assert r.returncode == 2 and f'{p}:5: step 1 (turn 1, "hi"): expect.toolz: unknown field' in r.stderr


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
    assert set(results[1].failures) == {"expect.tools: expected ['get_warnings'], got ['get_range']",
                                        "expect.numbers.0: no number 50 km (±0.5)",
                                        "expect.contains: does not contain 'miles'"}
    assert [(r.turn, r.index, r.line) for r in results] == [(1, 0, 4), (2, 1, 6), (3, 2, 8), (4, 5, 12)]
    assert results[1].name == "turn 2 (step 2): how far can I go?" and results[1].where == f"{p}:6"


def test_pass_k_and_junit(tmp_path):
    def result(i, ok):
        r = TurnResult("s", "f.yaml", i, f"q{i}")
        r.failures = [] if ok else ["nope"]
        return r
    summary = Summary([[result(0, True), result(1, True)], [result(0, True), result(1, False)]])
    assert summary.pass_rate == 0.75 and summary.pass_k == 0.5          # pass rate: over all runs
    out = tmp_path / "r.xml"
    write_junit(summary, out)
    root = ET.parse(out).getroot()
    assert root.get("tests") == "2" and root.get("failures") == "1"
    (case,) = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert case.get("name") == "turn ? (step 2): q1" and "failed in 1 of 2 run(s)" in case.find("failure").text


def test_junit_stays_valid_xml_whatever_the_model_says(tmp_path):
    class A:
        text = "Range \x00 48 km\x1b[0m <b>&amp; \"ok\" ° é \ud800"
        timings_ms = {"total": 12.0}
    r = TurnResult("s <1>", "dir/f.yaml", 0, "how far & \x07?", turn=1, line=4)
    r.answer, r.failures = A(), ["expect.contains: does not contain '<km>'"]
    out = tmp_path / "r.xml"
    write_junit(Summary([[r]]), out)
    case = ET.parse(out).getroot().find("testsuite/testcase")
    assert case.get("line") == "4" and case.get("file") == "dir/f.yaml"
    assert "48 km" in case.find("system-out").text and "° é" in case.find("system-out").text
    assert case.find("failure").get("message") == "expect.contains: does not contain '<km>'"


def test_check_turn_safety_and_words():
    class A:
        text = "Warning: oil pressure is low. Stop. You can drive about 48 km."
        safety = ["Warning: oil pressure is low."]
        tools, grounded, fallback, route, timings_ms = [], True, True, "matcher", {"total": 10}
    fails, _ = check_turn(Expect(safety=True, max_words=7, numbers=[{"value": 48, "unit": "km"}]), A())
    assert fails == []
    fails, _ = check_turn(Expect(safety=False, max_words=3), A())
    assert fails == ["expect.safety: unexpected safety wording", "expect.max_words: 7 words (max 3)"]   # "Stop." is outside the safety list


def test_cli_summary_pass_k_latency_tools_and_junit(tmp_path):
    p = write(tmp_path, """\
        name: cli check
        scenario: {signals: {Vehicle.Powertrain.FuelSystem.Range: 48000, Vehicle.Speed: 30}}
        steps:
          - say: how far can I go?
            expect: {tools: [get_range], numbers: [{value: 48, unit: km}]}
          - set: {Vehicle.Speed: 0}
          - say: how far can I go?
            expect: {tools: [get_warnings], contains: [miles]}
          - say: any warning lights?
        """)
    out = tmp_path / "report.xml"
    r = run_cli("dialogue", "run", str(p), "--no-model", "--repeat", "2", "--junit", str(out))
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    summary = next(x for x in lines if x.startswith("turns: "))
    assert summary == "turns: 3  pass rate: 66.7% (4/6 over 2 runs)  Pass^2: 66.7% (2/3)"
    assert "tool-selection accuracy: 50.0% (2/4 turns that expect tools, over 2 runs)" in lines
    assert any(x.startswith("latency per turn: p50 ") and " ms, p95 " in x for x in lines), lines
    assert f"  FAIL {p}:7: turn 2 (step 3): how far can I go?" in lines
    assert "       expect.contains: does not contain 'miles'" in lines

    root = ET.parse(out).getroot()
    cases = list(root.iter("testcase"))
    assert [c.get("name") for c in cases] == ["turn 1 (step 1): how far can I go?", "turn 2 (step 3): how far can I go?",
                                             "turn 3 (step 4): any warning lights?"]
    assert [c.get("line") for c in cases] == ["4", "7", "9"]
    assert root.get("tests") == "3" and root.get("failures") == "1"
    (failed,) = [c for c in cases if c.find("failure") is not None]
    message = failed.find("failure").get("message")
    assert message == "expect.tools: expected ['get_warnings'], got ['get_range']; expect.contains: does not contain 'miles'"
    assert f"{p}:7: turn 2: failed in 2 of 2 run(s)" in failed.find("failure").text

    one = run_cli("dialogue", "run", str(p), "--no-model", "-q")
    assert "Pass^" not in one.stdout and "pass rate: 66.7% (2/3)" in one.stdout


def test_cli_without_tool_expectations_says_so(tmp_path):
    p = write(tmp_path, "name: x\nscenario: low_fuel\nsteps:\n  - say: how far can I go?\n")
    r = run_cli("dialogue", "run", str(p), "--no-model", "-q")
    assert r.returncode == 0 and "tool-selection accuracy: n/a (no turn expects tools)" in r.stdout
