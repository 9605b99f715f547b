"""Insights as the driver meets them: "is anything about to go wrong?" on a scenario with a past
names the rear right tyre and its rate; a normal history invents no trend; too little history
says so; questions in English, French and Italian route to ``get_insights``; the model's
grammar-constrained calling sees the tool; a trend is announced once, rate-limited, never
over a critical warning; a scenario's ``past:`` is validated like the rest of the file."""

from __future__ import annotations

import json
import time

import pytest

from assistant.alerts import AlertMonitor
from assistant.history import attach, detach
from assistant.history import evaluate as E
from assistant.intent import matcher
from assistant.state.store import VehicleState
from assistant.tools.schemas import ToolCall

from .conftest import run_cli


def _ask(*args):
    r = run_cli("ask", *args)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.parametrize("question, about", [
    ("is anything about to go wrong?", "all"),
    ("how is the battery doing?", "battery"),
    ("is the rear right tyre losing air?", "tyres"),
    ("is my engine running hotter than usual?", "engine"),
    ("am I using more fuel than before?", "consumption"),
    ("is someone stealing my fuel?", "fuel"),
    ("at this rate when is the service due?", "service"),
    ("est-ce que quelque chose va tomber en panne ?", "all"),
    ("comment va la batterie ?", "battery"),
    ("le pneu arrière droit perd de l'air ?", "tyres"),
    ("qualcosa sta per guastarsi?", "all"),
    ("come sta la batteria?", "battery"),
    ("la gomma posteriore destra perde aria?", "tyres"),
])
def test_trend_questions_route_to_get_insights_in_three_languages(question, about):
    calls = matcher.match(question)
    assert calls and calls[0] == ToolCall("get_insights", {"about": about}), calls
    assert matcher.uncertainty(question, calls) is None


def test_a_tyre_trend_question_also_reads_that_tyre_and_lamp_questions_stay_lamp_questions():
    assert matcher.match("is the rear right tyre losing air?")[1] == \
        ToolCall("get_tyre_pressures", {"wheel": "rear_right"})
    for q in ("is anything wrong with the car?", "what's that orange light?", "is the driver's side losing pressure"):
        assert all(c.name != "get_insights" for c in matcher.match(q)), q


def test_slow_puncture_names_the_rear_right_tyre_and_the_rate():
    out = json.loads(_ask("--no-model", "--scenario", "slow_puncture", "--json", "is anything about to go wrong?"))
    assert "rear right tyre is losing air" in out["answer"]
    assert "kPa a day" in out["answer"] and " in 2 days" in out["answer"]
    insights = out["tools"][0]
    assert insights["name"] == "get_insights" and insights["result"]["status"] == "ok"
    (leak,) = insights["result"]["insights"]
    ev = {e["name"]: e for e in leak["evidence"]}
    assert leak["subject"] == "rear right" and ev["drop"]["unit"] == "kPa"
    assert f"down {ev['drop']['value']:.0f} kPa" in out["answer"]          # the number is the history's
    assert ev["drop"]["since"] < ev["drop"]["until"] <= time.time()
    lamp = next(t for t in out["tools"] if t["name"] == "get_warnings")
    assert not lamp["result"]["active"]                                      # and the tyre lamp is still off


def test_a_tyre_the_history_sees_losing_air_is_not_called_fine_in_the_same_answer():
    out = json.loads(_ask("--no-model", "--scenario", "slow_puncture", "--json", "is the rear right tyre losing air?"))
    assert "rear right tyre is losing air" in out["answer"]
    assert "fine" not in out["answer"] and "rear right tyre is at" in out["answer"]


def test_normal_drive_invents_no_trend_and_no_history_is_not_called_normal():
    assert _ask("--no-model", "--scenario", "normal_drive", "is anything about to go wrong?") == \
        "I see no worrying trend in the last 30 days of history."
    none = _ask("--no-model", "--scenario", "low_fuel", "is anything about to go wrong?")
    assert "enough history" in none and "no worrying trend" not in none


def test_weak_battery_says_the_resting_voltage_then_and_now():
    res = json.loads(_ask("--no-model", "--scenario", "weak_12v_battery", "--json", "how is the battery doing?"))
    out = res["answer"]
    (weak,) = next(t for t in res["tools"] if t["name"] == "get_insights")["result"]["insights"]
    days = round(next(e for e in weak["evidence"] if e["name"] == "days")["value"])
    assert days in (13, 14)        # the past's two weeks of wake-ups, counted from the hour of the run
    assert out.startswith("The 12 V battery is getting weaker: its resting voltage fell from 12.7 V to 12.2 V "
                          f"in {days} days")
    assert "the dip at engine start" in out and "The 12 volt battery voltage is 12.2 V." in out


def test_french_and_italian_answers():
    fr = _ask("--no-model", "--scenario", "slow_puncture", "--persona", "personas/lumiere.yaml",
              "est-ce que quelque chose va tomber en panne ?")
    assert "pneu arrière droit perd de l'air" in fr
    it = _ask("--no-model", "--scenario", "slow_puncture", "--persona", "personas/vento.yaml",
              "qualcosa sta per guastarsi?")
    assert "posteriore destr" in it and "aria" in it


def test_the_default_model_answer_is_grounded():
    out = json.loads(_ask("--scenario", "slow_puncture", "--json", "is anything about to go wrong?"))
    assert out["grounded"] and "rear right" in out["answer"]
    assert not out["grounding_problems"] or out["fallback"]


def test_the_capable_models_grammar_sees_the_tool():
    from assistant.llm import toolcall
    schema = toolcall.arguments_schema("get_insights")
    assert set(schema["properties"]["about"]["enum"]) == {"all", "tyres", "battery", "engine", "consumption",
                                                          "service", "fuel"}
    assert "get_insights" in [s["function"]["name"] for s in toolcall.tool_schemas()]
    assert "root" in toolcall.arguments_gbnf("get_insights")
    assert toolcall.parse_calls('<tool_call>{"name": "get_insights", "arguments": {"about": "battery"}}</tool_call>') \
        == [ToolCall("get_insights", {"about": "battery"})]


class _Mono:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_a_trend_is_announced_once_rate_limited_and_never_over_a_critical_warning(tmp_path):
    t_end = time.time()
    past = {"days": 14, "seed": 5, "signals": {E.RR: {"start": 227, "end": 209, "from_day": 12}},
            "battery": {"resting": {"start": 12.72, "end": 12.1}}}
    store = E.simulate(past, t_end, tmp_path)
    mono = _Mono()
    st = VehicleState({}, default_stale_after=5.0, clock=mono)
    st.capabilities = ["Vehicle.Telltale.OilPressure", "Vehicle.Telltale.LowFuel"]
    attach(st, store)
    try:
        heard = []
        mon = AlertMonitor(st, on_alert=heard.append, clock=mono)
        st.update("Vehicle.Telltale.OilPressure", "ON", mono.t, "t")        # a critical lamp is on
        st.update("Vehicle.Telltale.LowFuel", "OFF", mono.t, "t")
        mon.poll()
        assert [a.lamp for a in heard] == ["OilPressure"]                  # the safety wording, alone
        mono.t += 60
        st.update("Vehicle.Telltale.OilPressure", "ON", mono.t, "t")
        mon.poll()
        assert [a.lamp for a in heard] == ["OilPressure"]                  # still on: no trend over it
        mono.t += 1
        st.update("Vehicle.Telltale.OilPressure", "OFF", mono.t, "t")
        mon.poll()
        assert [a.lamp for a in heard][-1] == "insight"
        first = heard[-1]
        assert not first.critical and ("losing air" in first.text or "battery" in first.text)
        for _ in range(3):                                                 # rate-limited: not the next one yet
            mono.t += 60
            st.update("Vehicle.Telltale.OilPressure", "OFF", mono.t, "t")
            mon.poll()
        assert [a.lamp for a in heard].count("insight") == 1
        mono.t += 3600                                                     # later: the other finding, once
        st.update("Vehicle.Telltale.OilPressure", "OFF", mono.t, "t")
        mon.poll()
        mono.t += 3600
        st.update("Vehicle.Telltale.OilPressure", "OFF", mono.t, "t")
        mon.poll()
        texts = [a.text for a in heard if a.lamp == "insight"]
        assert len(texts) == 2 and len(set(texts)) == 2
        again = []                                                         # a restart remembers what was said
        mon2 = AlertMonitor(st, on_alert=again.append, clock=mono)
        mono.t += 7200
        st.update("Vehicle.Telltale.OilPressure", "OFF", mono.t, "t")
        mon2.poll()
        assert not again
        quiet = []                                                         # a persona that does not announce
        detach(st)
        attach(st, E.simulate(past, t_end, tmp_path / "b"))
        AlertMonitor(st, on_alert=quiet.append, clock=mono, announce_non_critical=False).poll()
        assert not quiet
    finally:
        detach(st)
        store.close()


def test_a_bad_past_is_refused_with_file_and_field(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nvehicle: demo\nsignals: {Vehicle.Speed: 10}\npast:\n  days: 400\n"
                 "  signals: {Vehicle.Nope: {start: 1}}\n")
    r = run_cli("ask", "--no-model", "--scenario", str(f), "is anything about to go wrong?")
    assert r.returncode == 2
    assert "bad.yaml" in r.stderr and "past" in r.stderr and "days" in r.stderr and "Vehicle.Nope" in r.stderr
