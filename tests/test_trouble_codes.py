"""Trouble-code knowledge (issue 13, "Trouble codes"): any well-formed code is decoded by its
structure, the generic table is validated at load, and "what does <code> mean?" says whether
the code is stored in this car, cannot be read, or is not stored, in English, French and
Italian, through the real pipeline (scenarios on a virtual bus, no model)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant import paths
from assistant.answer import grounding
from assistant.answer.render import Style, render
from assistant.configfile import ConfigError
from assistant.intent.matcher import match
from assistant.llm import toolcall
from assistant.persona import load_persona
from assistant.pipeline import Assistant
from assistant.state import dtc
from assistant.tools.codes import CodeArgs
from assistant.tools.schemas import ToolCall
from assistant.tools.vehicle import TOOLS, VehicleView
from assistant.vehicle import LiveVehicle

TABLE = paths.DATA_DIR / "dtc_codes.yaml"
DTC = "Vehicle.Diagnostics.DTCList"

# The 78 codes of the table this one replaced: each is still described.
EARLIER = """P0010 P0011 P0016 P0030 P0087 P0100 P0101 P0102 P0106 P0110 P0113 P0115 P0116 P0117 P0118 P0120
P0121 P0128 P0130 P0133 P0135 P0141 P0171 P0172 P0174 P0175 P0191 P0200 P0217 P0218 P0219 P0234 P0299 P0300
P0301 P0302 P0303 P0304 P0305 P0306 P0325 P0335 P0340 P0351 P0400 P0401 P0402 P0420 P0430 P0440 P0441 P0442
P0446 P0455 P0456 P0500 P0505 P0506 P0507 P0520 P0521 P0522 P0524 P0562 P0563 P0571 P0600 P0601 P0606 P0620
P0700 P0715 P0720 P0730 P0740 P0750 P0A80 P0AA6 C0035 C0040 C0045 C0050 C0110 C0121 C0750 C0755 C0760 C0765
B0001 B0002 B0010 B0020 B0100 U0001 U0073 U0100 U0101 U0121 U0140 U0151 U0155""".split()


def group_of(code: str) -> str:
    return "P0A-P0C" if code[:3] in ("P0A", "P0B", "P0C") else code[:2]


# ----------------------------------------------------------------------------- decoding any code

@pytest.mark.parametrize("code,scope", [
    ("P0420", "generic"), ("P2463", "generic"), ("P1690", "manufacturer"), ("P3000", "manufacturer"),
    ("P33FF", "manufacturer"), ("P3400", "generic"), ("P3FFF", "generic"), ("C0035", "generic"),
    ("C1234", "manufacturer"), ("C2000", "manufacturer"), ("C3123", "reserved"), ("B0001", "generic"),
    ("B1234", "manufacturer"), ("B3000", "reserved"), ("U0100", "generic"), ("U2100", "manufacturer"),
    ("U3000", "reserved"),
])
def test_who_defines_a_code_comes_from_its_second_character(code, scope):
    assert dtc.scope(code) == scope
    assert dtc.info(code).system == {"P": "powertrain", "C": "chassis", "B": "body", "U": "network"}[code[0]]


def test_an_unknown_code_is_still_explained_by_its_structure():
    assert dtc.meaning("P1690").startswith("a manufacturer-specific powertrain code; its meaning depends on the make")
    assert dtc.meaning("U2100").startswith("a manufacturer-specific network code")
    assert "range kept for future use" in dtc.meaning("C3123") and "chassis" in dtc.meaning("C3123")
    # a generic code the table does not list: its subsystem from the third character
    p03 = dtc.info("P0399")
    assert p03.scope == "generic" and not p03.known and p03.group == "the ignition system or misfires"
    assert dtc.meaning("P0399") == ("a generic powertrain code about the ignition system or misfires, which I have "
                                    "no description for; a workshop can read its details")
    assert "hybrid propulsion" in dtc.meaning("P0BFF")
    assert "transmission" in dtc.meaning("P0799") and "cylinder deactivation" in dtc.meaning("P3401")
    assert "lost communication" in dtc.meaning("U0199")
    assert dtc.info("P0D12").group is None and "generic powertrain code which" in dtc.meaning("P0D12")
    # the same in French and Italian
    assert "propre au constructeur" in dtc.meaning("P1690", "fr") and "groupe motopropulseur" in dtc.meaning("P1690", "fr")
    assert "specifico del costruttore" in dtc.meaning("P1690", "it")
    assert "ratés d'allumage" in dtc.meaning("P0399", "fr") and "mancate accensioni" in dtc.meaning("P0399", "it")


def test_every_listed_code_survives_the_two_byte_form():
    for code in dtc.knowledge().codes:
        assert dtc.decode(dtc.encode(code)) == code


@pytest.mark.parametrize("bad", ["P04200", "X0420", "P4420", "P042G", "", "P 0420"])
def test_the_tool_argument_is_a_well_formed_code(bad):
    with pytest.raises(ValueError):
        CodeArgs.model_validate({"code": bad})
    assert CodeArgs.model_validate({"code": " p0a80 "}).code == "P0A80"


# ----------------------------------------------------------------------------- the table

def test_the_table_has_400_generic_codes_across_the_groups_with_every_field():
    codes = dtc.knowledge().codes
    per_group: dict[str, int] = {}
    for code in codes:
        per_group[group_of(code)] = per_group.get(group_of(code), 0) + 1
    assert len(codes) >= 400, per_group
    minimum = {"P0": 250, "P0A-P0C": 20, "P2": 50, "C0": 15, "B0": 10, "U0": 30}
    assert all(per_group.get(g, 0) >= n for g, n in minimum.items()), per_group
    assert set(per_group) == set(minimum), per_group
    assert not [c for c in EARLIER if c not in codes]
    assert all(dtc.scope(c) == "generic" for c in codes)
    # every language is written, not copied from English
    for lang in ("fr", "it"):
        same = [c for c, e in codes.items() if e.of(lang) == e.en]
        assert len(same) <= len(codes) // 50, same[:10]


@pytest.mark.parametrize("code,advice", [("P0300", "check_soon"), ("P0312", "check_soon"), ("P0217", "stop"),
                                         ("P0524", "stop"), ("U0100", "check_soon"), ("P0AA6", "stop"),
                                         ("P0455", "keep_driving"), ("P0420", "keep_driving")])
def test_what_a_code_means_for_the_driver(code, advice):
    assert dtc.info(code).advice == advice


def _write(tmp_path: Path, codes: str, **replace: str) -> Path:
    """The shipped table's header (systems, groups, phrases, advice) with these codes."""
    head = TABLE.read_text(encoding="utf-8").split("\ncodes:\n")[0]
    for old, new in replace.items():
        assert old in head
        head = head.replace(old, new)
    f = tmp_path / "dtc_codes.yaml"
    f.write_text(head + "\ncodes:\n" + codes, encoding="utf-8")
    return f


def _line(f: Path, text: str) -> int:
    return next(i for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if text in line)


GOOD = """\
  P0420:
    advice: keep_driving
    en: Catalyst tired
    fr: Catalyseur fatigué
    it: Catalizzatore stanco
"""


def test_a_good_small_table_loads(tmp_path):
    k = dtc.load_knowledge(_write(tmp_path, GOOD))
    assert dtc.meaning("P0420", "fr", k) == "Catalyseur fatigué"


@pytest.mark.parametrize("codes,where,problem", [
    (GOOD + "  P0171:\n    advice: check_soon\n    en: Lean\n    fr: Pauvre\n", "  P0171:", "codes.P0171.it: Field required"),
    (GOOD + "  P0171:\n    advice: soon\n    en: Lean\n    fr: Pauvre\n    it: Magra\n", "advice: soon",
     "codes.P0171.advice"),
    (GOOD + "  P0171:\n    advice: check_soon\n    en: Lean\n    fr: '  '\n    it: Magra\n", "fr: '  '",
     "codes.P0171.fr"),
    (GOOD + "  P1690:\n    advice: check_soon\n    en: Maker's\n    fr: Constructeur\n    it: Costruttore\n", "  P1690:",
     "P1690 is a manufacturer code"),
    (GOOD + "  P04201:\n    advice: check_soon\n    en: x\n    fr: x\n    it: x\n", "  P04201:",
     "'P04201' is not a trouble code"),
    (GOOD + "  p0171:\n    advice: check_soon\n    en: x\n    fr: x\n    it: x\n", "  p0171:",
     "'p0171' is not a trouble code"),
    (GOOD + "  P0171:\n    advice: check_soon\n    en: x\n    fr: x\n    it: x\n    de: y\n", "de: y",
     "codes.P0171.de: unknown field"),
])
def test_a_broken_table_names_file_line_and_code(tmp_path, codes, where, problem):
    f = _write(tmp_path, codes)
    with pytest.raises(ConfigError) as e:
        dtc.load_knowledge(f)
    msg = str(e.value)
    assert f"{f}:{_line(f, where)}:" in msg and problem in msg, msg


def test_a_code_listed_twice_is_refused_with_both_lines(tmp_path):
    f = _write(tmp_path, GOOD + GOOD.replace("Catalyst tired", "Catalyst very tired"))
    with pytest.raises(ConfigError) as e:
        dtc.load_knowledge(f)
    first, second = [i for i, line in enumerate(f.read_text().splitlines(), 1) if line == "  P0420:"]
    assert f"{f}:{second}: P0420: duplicate key (also on line {first})" in str(e.value), str(e.value)


def test_broken_phrases_and_missing_languages_are_named(tmp_path):
    f = _write(tmp_path, GOOD, **{'stored: "{code} is stored in this car: {meaning}."':
                                  'stored: "{code} is stored in this car: {meening}."'})
    with pytest.raises(ConfigError) as e:
        dtc.load_knowledge(f)
    assert f"{f}:{_line(f, '{meening}')}: phrases.en.stored: placeholders" in str(e.value), str(e.value)
    f = _write(tmp_path, GOOD, **{"\n  it:\n    keep_driving:": "\n  de:\n    keep_driving:"})
    with pytest.raises(ConfigError) as e:
        dtc.load_knowledge(f)
    assert "advice: advice texts missing for it" in str(e.value), str(e.value)
    f = tmp_path / "broken.yaml"
    f.write_text("codes:\n  P0420: {advice: stop\n")
    with pytest.raises(ConfigError) as e:
        dtc.load_knowledge(f)
    assert re.search(rf"{re.escape(str(f))}:\d+: invalid YAML", str(e.value)), str(e.value)


# ----------------------------------------------------------------------------- the tool and the answer

def _ask(assistant: Assistant, question: str):
    a = assistant.ask(question)
    asked = [(t.name, t.arguments) for t in a.tools if t.reason == "asked"]
    return a, asked


@pytest.fixture(scope="module")
def check_engine():
    with LiveVehicle.from_scenario("check_engine") as v:      # P0420 and P0171 stored, engine lamp on
        yield v


def test_a_stored_code_is_said_to_be_stored_with_its_meaning_and_advice(check_engine):
    a, asked = _ask(Assistant(check_engine.state), "what does P0420 mean?")
    assert asked == [("explain_code", {"code": "P0420"})]
    assert a.text.startswith("P0420 is stored in this car: catalyst not cleaning the exhaust well enough (bank 1)."), \
        a.text
    assert "you can keep driving" in a.text and a.grounded and not a.safety
    result = next(t.result for t in a.tools if t.name == "explain_code")
    assert result.stored is True and result.known and result.advice == "keep_driving"


def test_a_code_that_is_not_stored_is_said_not_stored(check_engine):
    a, asked = _ask(Assistant(check_engine.state), "explain code U0100")
    assert asked == [("explain_code", {"code": "U0100"})]
    assert a.text == ("U0100 is not stored in this car right now; it means: lost communication with the engine "
                      "control module (A)."), a.text


def test_a_manufacturer_code_is_explained_by_its_structure(check_engine):
    a, asked = _ask(Assistant(check_engine.state), "what does p one six nine zero mean")
    assert asked == [("explain_code", {"code": "P1690"})]
    assert "P1690 is not stored in this car right now; it is a manufacturer-specific powertrain code; its meaning " \
           "depends on the make" in a.text, a.text


def test_when_the_stored_codes_cannot_be_read_it_says_so_instead_of_not_stored():
    with LiveVehicle.from_scenario("low_fuel") as v:          # no trouble-code list on the bus
        a, asked = _ask(Assistant(v.state), "what's P0420")
        result = next(t.result for t in a.tools if t.name == "explain_code")
        assert asked == [("explain_code", {"code": "P0420"})]
        assert result.stored is None and result.stored_codes_status == "missing"
        assert a.text.startswith("I can't read the stored trouble codes right now, so I can't say whether P0420 is "
                                 "stored; it means: catalyst"), a.text
        assert "not stored" not in a.text
        # a car that does not report its codes at all
        view = VehicleView(v.state, frozenset(v.state.capabilities) - {DTC})
        r = TOOLS["explain_code"].call(view, {"code": "P0524"})
        assert r.stored is None and r.stored_codes_status == "not_supported"
        text = render([("explain_code", r)], Style()).text
        assert text.startswith("This car doesn't report its trouble codes, so I can't say whether P0524 is stored")
        assert "Stop the car as soon as you can" in text           # it may be stored: what to do if it is


@pytest.mark.parametrize("persona,question,said", [
    ("lumiere", "que signifie le code P0420 ?",
     "Le code P0420 est enregistré dans cette voiture : catalyseur qui ne dépollue plus assez les gaz "
     "d'échappement (rangée 1)."),
    ("lumiere", "que veut dire le code P0301 ?",
     "Le code P0301 n'est pas enregistré dans cette voiture pour le moment ; il signifie : ratés d'allumage "
     "détectés sur le cylindre 1."),
    ("vento", "cosa significa il codice P0420?",
     "Il codice P0420 è memorizzato in questa auto: catalizzatore che non depura più abbastanza i gas di scarico "
     "(bancata 1)."),
    ("vento", "il codice p zero tre zero uno cosa vuol dire?",
     "Il codice P0301 non è memorizzato in questa auto al momento; significa: mancata accensione rilevata nel "
     "cilindro 1."),
])
def test_codes_are_explained_in_french_and_italian(check_engine, persona, question, said):
    # 50 km/h: the personas' moving caps keep the answer to what was asked
    a, asked = _ask(Assistant(check_engine.state, persona=load_persona(persona)), question)
    assert [n for n, _ in asked] == ["explain_code"], asked
    assert a.text.startswith(said), a.text


@pytest.mark.parametrize("lang,said", [
    ("en", ["P0524 is stored in this car: engine oil pressure too low", "Stop the car as soon as you can"]),
    ("fr", ["Le code P0524 est enregistré dans cette voiture : pression d'huile moteur trop faible",
            "Arrêtez la voiture dès que possible"]),
    ("it", ["Il codice P0524 è memorizzato in questa auto: pressione dell'olio motore troppo bassa",
            "Ferma l'auto appena puoi"]),
])
def test_a_stored_code_gets_what_to_do_in_each_language(lang, said):
    scenario = {"name": "oil_code", "vehicle": "demo", "signals": {DTC: ["P0524"], "Vehicle.Speed": 0}}
    from assistant.sim.scenario import scenario_from_dict
    with LiveVehicle.from_scenario(scenario_from_dict(scenario)) as v:
        r = render([("explain_code", TOOLS["explain_code"].call(VehicleView.of(v.state), {"code": "P0524"}))],
                   Style(locale=lang))
    for text in said:
        assert text in r.text, r.text
    assert len(r.sentences) == 2 and r.sentences == r.must   # "stop" is never cut by a length cap


def test_stored_codes_in_the_warnings_answer_get_the_table_words_and_advice_in_each_language(check_engine):
    a, _ = _ask(Assistant(check_engine.state), "any fault codes stored?")
    assert "P0420 (Catalyst not cleaning the exhaust well enough (bank 1))" in a.text
    assert "P0171 (Engine running too lean: too much air or too little fuel (bank 1))" in a.text
    assert "Have it checked by a workshop soon" in a.text, a.text      # P0171's advice: the most serious
    w = TOOLS["get_warnings"].call(VehicleView.of(check_engine.state), {"about": "codes"})
    assert [(c.code, c.advice) for c in w.trouble_codes] == [("P0420", "keep_driving"), ("P0171", "check_soon")]
    fr = render([("get_warnings", w)], Style(locale="fr")).text
    assert "P0420 (Catalyseur qui ne dépollue plus assez" in fr and "Faites-le vérifier bientôt" in fr, fr
    it = render([("get_warnings", w)], Style(locale="it")).text
    assert "P0171 (Miscela troppo magra" in it and "Fallo controllare presto" in it, it


def test_a_critical_lamp_keeps_its_own_advice_over_the_codes():
    with LiveVehicle.from_scenario("misfire") as v:           # blinking engine lamp, P0300 and P0301
        a, _ = _ask(Assistant(v.state), "are there any DTCs")
        assert a.safety and "P0300" in a.text and "P0301" in a.text
        assert "drive gently" not in a.text                   # the approved wording says what to do


# ----------------------------------------------------------------------------- grounding and tool calling

def test_code_explanations_pass_grounding_and_a_flipped_stored_is_refused(check_engine):
    view = VehicleView.of(check_engine.state)
    for code in ("P0420", "P0301", "P1690", "C3123"):
        r = render([("explain_code", TOOLS["explain_code"].call(view, {"code": code}))], Style())
        v = grounding.check(r.text, r)
        assert v.grounded, (code, v.problems)
    not_stored = render([("explain_code", TOOLS["explain_code"].call(view, {"code": "P0301"}))], Style())
    assert not grounding.check("P0301 is stored in this car: cylinder 1 is misfiring.", not_stored).grounded
    is_stored = render([("explain_code", TOOLS["explain_code"].call(view, {"code": "P0420"}))], Style())
    assert not grounding.check("P0420 is not stored in this car; it is about the catalyst.", is_stored).grounded
    assert not grounding.check("P0420 is stored: the catalyst, and P0430 too.", is_stored).grounded   # invented code
    assert not grounding.check("P0420 is stored: catalyst on bank 2.", is_stored).grounded          # invented number


def test_every_listed_code_is_said_in_a_rendering_that_passes_its_own_grounding():
    """Each description, in each language, stored / not stored / unreadable: the rendering is
    what the driver hears on a fallback, so a description may not trip the check (a unit word,
    a spoken number, "stored", a number said beside "fuel" or "electrical")."""
    from assistant.tools.codes import CodeResult
    from assistant.tools.schemas import TroubleCode, WarningsResult
    bad = []
    for code, e in dtc.knowledge().codes.items():
        for lang in ("en", "fr", "it"):
            for stored, status in ((True, "ok"), (False, "ok"), (None, "stale")):
                r = CodeResult(code=code, system="powertrain", scope="generic", known=True, description=e.en,
                               advice=e.advice, stored=stored, stored_codes_status=status)
                out = render([("explain_code", r)], Style(locale=lang))
                v = grounding.check(out.text, out, coverage=lang == "en")
                if not v.grounded:
                    bad.append((code, lang, stored, v.problems))
            w = WarningsResult(active=[], unreadable=[], trouble_codes=[TroubleCode(code=code, description=e.en,
                                                                                    advice=e.advice)])
            out = render([("get_warnings", w)], Style(locale=lang))
            if not grounding.check(out.text, out, coverage=lang == "en").grounded:
                bad.append((code, lang, "listed", grounding.check(out.text, out).problems))
    assert not bad, bad[:10]


def test_the_capable_models_grammar_sees_the_tool_and_writes_only_codes():
    from llama_cpp import LlamaGrammar
    shown = next(s for s in toolcall.tool_schemas() if s["function"]["name"] == "explain_code")
    assert shown["function"]["parameters"]["properties"]["code"]["pattern"] == dtc.DTC_PATTERN
    assert toolcall.arguments_schema("explain_code")["properties"]["code"] == {"type": "string",
                                                                              "pattern": dtc.DTC_PATTERN}
    gbnf = toolcall.arguments_gbnf("explain_code")
    LlamaGrammar.from_string(gbnf, verbose=False)
    assert "[PCBU]" in gbnf and "[0-3]" in gbnf and 'explain_code"' in toolcall.name_options()
    assert toolcall.parse_calls('<tool_call>{"name": "explain_code", "arguments": {"code": "P0420"}}</tool_call>') \
        == [ToolCall("explain_code", {"code": "P0420"})]
    assert toolcall.parse_calls('<tool_call>{"name": "explain_code", "arguments": {"code": "P04200"}}</tool_call>') == []


@pytest.mark.parametrize("question,codes", [
    ("what does P0420 mean", ["P0420"]), ("what's P0171", ["P0171"]), ("p zero four two zero", ["P0420"]),
    ("explain code U0100", ["U0100"]), ("c1234?", ["C1234"]), ("what do P0300 and P0301 mean?", ["P0300", "P0301"]),
    ("que signifie le code P0420", ["P0420"]), ("cosa significa il codice P0A80", ["P0A80"]),
])
def test_a_question_naming_a_code_is_routed_to_explain_code(question, codes):
    assert match(question) == [ToolCall("explain_code", {"code": c}) for c in codes]


def test_questions_about_the_stored_codes_stay_with_the_warnings():
    assert match("any fault codes stored?") == [ToolCall("get_warnings", {"about": "codes"})]
    assert match("read the trouble codes") == [ToolCall("get_warnings", {"about": "codes"})]
