"""The restaged pipeline: typed stages with start/end events, values between them, one error
type per stage, an immutable style, facts as data; real data path and the real default model."""

from __future__ import annotations

import dataclasses
import json
import shutil

import pytest

from assistant.answer import grounding
from assistant.answer.locales import load_locale
from assistant.answer.render import Rendering, Style, render
from assistant.configfile import ConfigError
from assistant.persona import check_file, load_persona
from assistant.pipeline import (Assistant, Candidate, Event, EventType, PhraseError, Safety, Stage, ToolRuns,
                                timings_from)
from assistant.tools.vehicle import TOOLS, VehicleView
from assistant.vehicle import LiveVehicle

from .conftest import ROOT, run_cli

OIL = "Warning: oil pressure is low."


@pytest.fixture(scope="module")
def oil_loss():
    with LiveVehicle.from_scenario("oil_pressure_loss") as v:
        yield v


def test_every_stage_starts_and_ends_with_its_typed_value(oil_loss):
    events: list[Event] = []
    ans = Assistant(oil_loss.state).ask("how far can I go?", on_event=events.append)
    kinds = [(e.type, e.stage) for e in events if e.type in (EventType.STAGE_START, EventType.STAGE_END)]
    stages = [Stage.ROUTE, Stage.TOOLS, Stage.SAFETY, Stage.RENDER]          # no model: no phrase/ground
    assert kinds == [x for s in stages for x in ((EventType.STAGE_START, s), (EventType.STAGE_END, s))]
    ends = {e.stage: e.data for e in events if e.type is EventType.STAGE_END}
    assert ends[Stage.ROUTE].calls[0].name == "get_range"
    assert isinstance(ends[Stage.TOOLS], ToolRuns) and isinstance(ends[Stage.SAFETY], Safety)
    assert isinstance(ends[Stage.RENDER], Rendering)
    assert events[0].type is EventType.RUN_START and events[-1].type is EventType.RUN_END
    assert events[-1].data is ans and ans.events == events
    # the words go out in order: the safety wording first, then the body
    texts = [e.data for e in events if e.type is EventType.TEXT]
    assert texts[0].startswith(OIL) and "610 km" in texts[1]
    # tool events carry the runs; timings are read off the events
    assert [e.data.name for e in events if e.type is EventType.TOOL] == ["get_range", "get_warnings"]
    assert ans.timings_ms == timings_from(events)
    t = ans.timings_ms
    assert t["route"] <= t["tools"] <= t["first_output"] <= t["total"]


def test_json_keeps_its_contract_and_adds_stage_times():
    r = run_cli("ask", "--no-model", "--json", "--scenario", "low_fuel", "how far can I go?")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {"answer", "tools", "grounded", "fallback", "timings_ms"} <= set(out)
    assert {"first_token", "total"} <= set(out["timings_ms"])
    assert list(out["stages_ms"]) == ["route", "tools", "safety", "render"]


def test_a_model_that_fails_while_phrasing_costs_its_stage_not_the_turn(default_model, oil_loss):
    """Fault injection: the real model's dialect raises in the phrase stage."""
    a = Assistant(oil_loss.state, default_model)

    def broken(*args, **kw):
        raise RuntimeError("llama_decode returned -1")

    a.dialect.phrase = broken
    events: list[Event] = []
    ans = a.ask("how far can I go?", on_event=events.append)
    errors = [e for e in events if e.type is EventType.ERROR]
    assert len(errors) == 1 and errors[0].stage is Stage.PHRASE and isinstance(errors[0].data, PhraseError)
    assert ans.fallback and "610 km" in ans.text and ans.text.startswith(OIL)
    assert "llama_decode returned -1" in ans.problems[0]


def test_chat_show_tools_prints_the_tool_events():
    r = run_cli("chat", "--no-model", "--no-alerts", "--show-tools", "--scenario", "low_fuel",
                input="how far can I go?\nquit\n")
    assert r.returncode == 0, r.stderr
    assert "[tool get_range({})" in r.stderr and "48 km" in r.stdout


def test_the_style_is_immutable_and_brand_wording_belongs_to_the_rendering(oil_loss):
    style = load_persona("aurora").style()
    with pytest.raises(dataclasses.FrozenInstanceError):
        style.distance = "km"                                     # type: ignore[misc]
    style.phrase("no_warnings")                                   # an alert or the voice loop using it
    view = VehicleView.of(oil_loss.state)
    rng = render([("get_range", TOOLS["get_range"].call(view, {}))], style)
    assert not rng.brand                                          # nothing of the brand's was said
    clear = render([("get_tyre_pressures", TOOLS["get_tyre_pressures"].call(view, {}))], style)
    assert clear.brand and clear.sentences[0].startswith("Tires look great")
    assert style.with_units({"distance": "km"}).distance == "km" and style.distance == "mi"


def test_grounding_reads_the_facts_not_the_text():
    """Two renderings with the same text but different facts get different verdicts."""
    r = Rendering()
    r.add("You can drive about 48 km on the fuel you have.")
    assert not grounding.check("You can drive about 48 km.", r, coverage=False).grounded   # no fact: refused
    r.fact("number", 48.0, unit="km", of=frozenset({"fuel"}), said="48 km")
    assert grounding.check("You can drive about 48 km.", r).grounded
    assert not grounding.check("You can drive about 48 km on electric power.", r).grounded   # said of battery


@pytest.mark.parametrize("claim", ["The oil pressure is good.", "The engine looks great.", "You're good to go.",
                                   "No need to worry.", "All is well.", "The oil pressure is alright.",
                                   "The engine is in good health."])
def test_health_claims_beyond_the_word_fine_are_refused(claim):
    r = Rendering()
    r.add("The front left tyre is at 240 kPa, which is fine.", fine="tyres")
    r.fact("number", 240.0, unit="kPa", of=frozenset({"front", "left"}), said="240 kPa")
    assert not grounding.check(claim, r, coverage=False).grounded, claim
    assert not grounding.check(claim, r, critical=True, coverage=False).grounded, claim


@pytest.mark.parametrize("key, text", [
    ("lamps_unreadable_others", "No other warning lights are on."),
    ("lamp_last_on_critical", "The {label} {was} when last read {ago} ago; it has gone off now."),
    ("cant_read", "The {what} is where it should be."),
])
def test_a_persona_cannot_reword_what_cannot_be_read(tmp_path, key, text):
    p = tmp_path / "p.yaml"
    p.write_text(f"extends: {ROOT / 'personas' / 'default.yaml'}\nname: X\nwording:\n  {key}: \"{text}\"\n")
    errors, _ = check_file(p)
    assert any(f"wording.{key}" in e and "fixed" in e for e in errors), errors


@pytest.mark.parametrize("field, text", [("decline_text", "No need to worry, your car is great."),
                                         ("wording:\n  unclear", "You are good to go! Ask me about range.")])
def test_brand_texts_said_without_a_reading_may_not_reassure(tmp_path, field, text):
    p = tmp_path / "p.yaml"
    p.write_text(f"name: X\n{field}: \"{text}\"\n")
    errors, _ = check_file(p)
    assert errors and any("without reading the car" in e for e in errors), errors


def test_a_brand_decline_is_not_said_after_a_critical_warning(oil_loss):
    persona = load_persona("aurora")
    a = Assistant(oil_loss.state, persona=persona)
    ans = a.ask("what do you think about politics?")
    assert ans.text.startswith(OIL)
    assert persona.decline_text not in ans.text and "I can only help with this car" in ans.text


def test_an_english_locale_missing_a_phrase_is_a_file_error(tmp_path):
    src = (ROOT / "assistant" / "data" / "locales" / "en.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "en.yaml"
    broken.write_text("\n".join(l for l in src.splitlines() if not l.startswith("  no_warnings:")), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"en.yaml: phrases: missing no_warnings"):
        load_locale(broken, complete=True)
    load_locale(ROOT / "assistant" / "data" / "locales" / "en.yaml", complete=True)
