"""The capable routing model for real (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, installed by
./setup.sh): native calls under the schema grammars, the explicit no-tool choice, several calls
for a several-part question, the hybrid router in the pipeline, and the bounded tool loop.
A focused set: each model step costs ~0.3-1 s on 2 cores. See also tests/dialogues_capable/."""

from __future__ import annotations

import json
import re

import pytest

from assistant.llm import toolcall
from assistant.llm.dialects import NativeDialect, dialect_for
from assistant.pipeline import Assistant, EventType, Stage
from assistant.state.store import VehicleState
from assistant.tools.schemas import ToolCall
from assistant.vehicle import LiveVehicle


@pytest.fixture(scope="module")
def dialect(capable_model) -> NativeDialect:
    d = dialect_for(capable_model)
    assert isinstance(d, NativeDialect) and d.name == "hermes"      # detected from the GGUF's own template
    return d


def _names(calls):
    return None if calls is None else [c.name for c in calls]


def test_calls_are_native_text_written_under_the_grammars(dialect):
    calls = dialect.route("um so the back right one is it going flat")
    assert calls == [ToolCall("get_tyre_pressures", {"wheel": "rear_right"})]
    # what the model wrote is the native format, one call, nothing else
    assert dialect.last.text.startswith('<tool_call>\n{"name": "get_tyre_pressures", "arguments": {')
    assert dialect.last.text.endswith("}\n</tool_call>") and dialect.last.text.count("<tool_call>") == 1


def test_a_choice_stops_as_soon_as_one_text_fits_and_the_rest_is_not_sampled(dialect, monkeypatch):
    sampled = []
    complete = dialect.model.complete

    def recording(suffix, **kw):
        c = complete(suffix, **kw)
        sampled.append(c.text)
        return c
    monkeypatch.setattr(dialect.model, "complete", recording)
    calls = dialect.route("um so the back right one is it going flat")
    assert calls == [ToolCall("get_tyre_pressures", {"wheel": "rear_right"})]
    name, key, value = sampled[:3]
    # each step wrote only the start of its text: the name, the key and the value were decided
    # before their ends, which were evaluated with the next prompt instead of sampled
    assert 'get_tyre_pressures"'.startswith(name) and len(name) < len('get_tyre_pressures"')
    assert '{"wheel": "'.startswith(key) and len(key) < len('{"wheel": "')
    assert 'rear_right"}'.startswith(value) and len(value) < len('rear_right"}')
    assert '"arguments": {"wheel": "rear_right"}}' in dialect.last.text


@pytest.mark.parametrize("question", [
    "what's the top speed of a Porsche 911",
    "how far is it from Rome to Milan",
    "tell me a joke about mechanics",
])
def test_questions_full_of_car_words_that_are_not_about_this_car_get_no_tool(dialect, question):
    assert dialect.route(question) == [], dialect.last
    assert dialect.last.declined


def test_a_two_part_question_gets_both_calls(dialect):
    calls = dialect.route("how much fuel and are the tyres ok")
    assert sorted(_names(calls)) == ["get_energy_level", "get_tyre_pressures"]
    assert dialect.last.text.count("<tool_call>") == 2


def test_the_distance_is_the_questions_not_the_models(dialect):
    calls = dialect.route("um can i still do thirty miles on whats left")
    rng = next(c for c in calls if c.name == "get_range")
    assert rng.arguments["destination_km"] == pytest.approx(48.3, abs=0.1)   # 30 mi, converted exactly


def test_read_signal_names_only_a_signal_that_exists(dialect):
    calls = dialect.route("the car won't start, is the 12 volt battery dead")
    assert calls is not None and all(c.name != "read_signal" or c.arguments["name"] in toolcall.READ_SIGNAL_NAMES
                                     for c in calls)
    assert ToolCall("read_signal", {"name": "Vehicle.LowVoltageBattery.CurrentVoltage"}) in calls


def test_french_and_italian_through_the_same_mechanism(dialect):
    assert _names(dialect.route("dis-moi, la voiture a un problème ?")) == ["get_warnings"]
    assert _names(dialect.route("quanta benzina c'è nel serbatoio")) == ["get_energy_level"]


def test_pipeline_routes_uncertain_questions_with_the_model_and_answers_from_tools(capable_model):
    with LiveVehicle.from_scenario("flat_tyre") as v:
        a = Assistant(v.state, capable_model)
        assert a.phrase_with_model is False          # llm.phrase auto: a native model's answer is the rendering
        ans = a.ask("is the front left one holding air?")
        assert [t.name for t in ans.tools if t.reason == "asked"] == ["get_tyre_pressures"]
        assert ans.grounded and "front left" in ans.text
        ans = a.ask("what's the top speed of a Porsche 911")
        assert ans.route == "off_topic" and not re.search(r"\d", ans.text), ans.text
        ans = a.ask("how far can I go?")              # a clear question: the matcher, no model step
        assert ans.route == "matcher" and "610" in ans.text


def test_the_tool_loop_is_bounded_and_each_step_is_a_typed_tools_stage(capable_model, tmp_path):
    from assistant.llm.model import LocalModel
    model = LocalModel(capable_model.cfg.model_copy(update={"max_tool_steps": 2}))
    try:
        with LiveVehicle.from_scenario("check_engine") as v:
            a = Assistant(v.state, model)
            events = []
            ans = a.ask("the orange engine symbol came on, what does it mean for me", on_event=events.append)
        tools_stages = [e for e in events if e.type is EventType.STAGE_END and e.stage is Stage.TOOLS]
        assert 1 <= len(tools_stages) <= 2            # the first calls, at most one further step
        keys = [(t.name, json.dumps(t.arguments, sort_keys=True)) for t in ans.tools if t.reason == "asked"]
        assert len(keys) == len(set(keys)), "no call is made twice"
        assert ans.grounded and ans.tools
    finally:
        del model


def test_a_model_that_fails_while_routing_costs_the_route_only(capable_model, monkeypatch):
    with LiveVehicle.from_scenario("low_fuel") as v:
        a = Assistant(v.state, capable_model)

        def broken(question):
            raise RuntimeError("llama_decode returned -3")
        monkeypatch.setattr(a.dialect, "route", broken)
        a._model_route = broken
        events = []
        ans = a.ask("so like the gas thing is it getting low or what", on_event=events.append)
        assert ans.grounded and ans.text
        assert any(e.type is EventType.ERROR and e.stage is Stage.ROUTE for e in events)


def test_empty_vehicle_state_never_gets_invented_numbers(capable_model):
    a = Assistant(VehicleState({}), capable_model)
    ans = a.ask("um how much juice is left in the battery thing")
    assert ans.grounded and not re.search(r"\d", ans.text), ans.text
