"""Persona configs: validation with file/line/field, extends, the safety refusal, and their
effect on answers (units, language, length by driving state, brand wording, declined topics)."""

import re
import textwrap

import pytest

from assistant.answer.grounding import check_results as check
from assistant.configfile import ConfigError
from assistant.persona import check_file, load_persona
from assistant.pipeline import Assistant
from assistant.vehicle import LiveVehicle

from .conftest import ROOT, run_cli

SHIPPED = sorted((ROOT / "personas").glob("*.yaml"))


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


# Vento's one sentence while moving drops any warning sentence after the first (warned, legal).
SHIPPED_WARNINGS = {"vento": ["answer_length.moving.max_sentences: 1 sentence while driving"]}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_personas_check_clean(path):
    errors, warnings = check_file(path)
    assert errors == []
    expected = SHIPPED_WARNINGS.get(path.stem, [])
    assert len(warnings) == len(expected) and all(w in got for w, got in zip(expected, warnings)), warnings


def test_shipped_personas_differ_in_voice_units_and_language():
    ps = {p.stem: load_persona(p) for p in SHIPPED}
    assert len({p.language for p in ps.values()}) >= 3
    assert len({(p.units.distance, p.units.pressure, p.units.temperature) for p in ps.values()}) >= 3
    assert len({p.voice.voice for p in ps.values()}) == len(ps)


def test_extends_inherits_and_overrides(tmp_path):
    p = write(tmp_path, "brand.yaml", f"""\
        extends: {ROOT / 'personas' / 'default.yaml'}
        name: Zed
        answer_length:
          moving: {{max_words: 15, max_sentences: 1}}
        """)
    persona = load_persona(p)
    assert persona.name == "Zed"
    assert persona.answer_length.moving.max_words == 15
    assert persona.answer_length.parked.max_words == 60          # from the base
    assert persona.wake_word == "hey nova"                         # from the base


def test_errors_in_a_base_are_reported_in_the_base(tmp_path):
    base = write(tmp_path, "base.yaml", """\
        name: Base
        voice: {voice: en, rate_wpm: 300}
        units:
          distance: furlong
        """)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: Child\n")
    errors, _ = check_file(child)
    assert errors == [f"{base.resolve()}:4: units.distance: Input should be 'km' or 'mi'"], errors
    with pytest.raises(ConfigError, match=r"base\.yaml:4: units\.distance"):
        load_persona(child)
    # Fixed in the base: the base's risky rate is warned at the base's line; the child's own
    # override is blamed on the child.
    base.write_text(base.read_text().replace("furlong", "mi"))
    _, warnings = check_file(child)
    assert any(w.startswith(f"{base.resolve()}:2: voice.rate_wpm") for w in warnings), warnings
    child.write_text("extends: base.yaml\nname: Child\nvoice: {voice: en, rate_wpm: 400}\n")
    _, warnings = check_file(child)
    assert any(w.startswith(f"{child}:3: voice.rate_wpm") for w in warnings), warnings
    # Nobody wrote the field: the child (the file being checked) is named.
    base.write_text("units: {distance: km}\n")
    child.write_text("extends: base.yaml\nbrand: B\n")
    errors, _ = check_file(child)
    assert errors == [f"{child}:1: name: Field required"], errors


def test_moving_cap_above_parked_cap_points_at_the_moving_cap(tmp_path):
    p = write(tmp_path, "p.yaml", """\
        name: X
        answer_length:
          parked: {max_words: 20, max_sentences: 2}
          moving:
            max_words: 25
            max_sentences: 2
        """)
    errors, _ = check_file(p)
    assert errors == [f"{p}:5: answer_length.moving.max_words: 25 must not exceed "
                      "answer_length.parked.max_words (20)"], errors


@pytest.mark.parametrize("moving, warned", [
    ("{max_words: 12, max_sentences: 2}", ["max_words: 12 words while driving leaves only the first sentence"]),
    ("{max_words: 15, max_sentences: 2}", ["max_words: 15 words while driving leaves only the first sentence"]),
    ("{max_words: 16, max_sentences: 2}", []),
    ("{max_words: 20, max_sentences: 1}", ["max_sentences: 1 sentence while driving drops every sentence"]),
])
def test_moving_caps_that_cut_warning_sentences_are_warned(tmp_path, moving, warned):
    p = write(tmp_path, "p.yaml", f"name: X\nanswer_length:\n  moving: {moving}\n")
    errors, warnings = check_file(p)
    assert errors == []
    assert len(warnings) == len(warned) and all(f"{p}:3: answer_length.moving." in w for w in warnings), warnings
    assert all(x in w for x, w in zip(warned, warnings)), warnings


def test_a_small_moving_cap_never_cuts_a_lamp_sentence_nor_the_safety_wording(tmp_path):
    """Through the real pipeline (low_fuel scenario moves at speed): a cap drops other sentences,
    never one that says a lamp is on (it is said over the cap) nor the safety wording."""
    small = write(tmp_path, "small.yaml", "name: X\nanswer_length:\n  moving: {max_words: 12, max_sentences: 2}\n")
    wide = write(tmp_path, "wide.yaml", "name: X\nanswer_length:\n  moving: {max_words: 30, max_sentences: 2}\n")
    (cut,), (kept,) = ask_all(small, "low_fuel", ["How far can I go?"]), ask_all(wide, "low_fuel", ["How far can I go?"])
    assert cut.driving == "moving" and "48 km" in cut.text and "The low fuel warning is on." in cut.text
    assert "The low fuel warning is on." in kept.text
    (oil,) = ask_all(small, "oil_pressure_loss", ["How far can I go?"])
    assert oil.safety and oil.text.startswith(oil.safety[0])                  # safety wording whole
    assert len(oil.text.split()) > 12                                          # ...though over the cap


def test_missing_base_persona_is_a_clear_error_with_its_line(tmp_path):
    p = write(tmp_path, "child.yaml", "name: Child\nextends: nosuchbase\n")
    with pytest.raises(ConfigError) as e:
        load_persona(p)
    assert f"{p}:2: extends: base persona 'nosuchbase' not found" in str(e.value)
    r = run_cli("persona", "check", str(p))
    assert r.returncode == 1 and "Traceback" not in r.stderr + r.stdout and "nosuchbase" in r.stdout + r.stderr


def test_circular_extends_is_refused(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: A\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: B\n")
    with pytest.raises(ConfigError, match="circular chain"):
        load_persona(tmp_path / "a.yaml")


@pytest.mark.parametrize("body, where, message", [
    ("name: X\ncolour: blue\n", ":2: colour", "unknown field"),
    ("name: X\nunits: {distance: furlong}\n", ":2: units.distance", "Input should be 'km' or 'mi'"),
    ("name: X\nunits: {temperature: K}\n", ":2: units.temperature", "temperature unit must be °C or °F"),
    ("name: X\nanswer_length:\n  moving: {max_words: 500, max_sentences: 2}\n", ":3: answer_length.moving.max_words",
     "less than or equal to 200"),
    ("name: X\nanswer_length:\n  moving: {max_words: 2, max_sentences: 2}\n", ":3: answer_length.moving.max_words",
     "greater than or equal to 5"),
    ("name: X\nvoice: {rate_wpm: fast}\n", ":2: voice.rate_wpm", "valid integer"),
    ("name: X\nlocale: klingon\n", ":2: locale", "locale must look like en-GB"),
    ("name: X\nlocale: de-DE\n", ":2: locale", "no answer texts for language 'de'"),
    ("name: X\nwording: {no_warnings_typo: hi}\n", ":2: wording.no_warnings_typo", "unknown phrase"),
    ("name: X\nwording: {tank: the tank}\n", ":2: wording.tank", "must keep the placeholders"),
    ("name: X\nwording: {cant_read: I cannot see it}\n", ":2: wording.cant_read", "its wording is fixed"),
])
def test_errors_name_file_line_and_field(tmp_path, body, where, message):
    p = write(tmp_path, "p.yaml", body)
    errors, _ = check_file(p)
    assert any(f"{p}{where}" in e and message in e for e in errors), errors


@pytest.mark.parametrize("body, field", [
    ("name: X\nsafety: {OilPressure: Oil is a bit low, no rush.}\n", "safety"),
    ("name: X\ntelltales: {OilPressure: {safety: relax}}\n", "telltales"),
    ("name: X\nwording: {OilPressure: Oil looks fine.}\n", "wording.OilPressure"),
    ("name: X\nwording: {safety_oil: Nothing to worry about.}\n", "wording.safety_oil"),
])
def test_persona_cannot_touch_safety_wording(tmp_path, body, field):
    p = write(tmp_path, "p.yaml", body)
    errors, _ = check_file(p)
    assert len(errors) == 1
    assert f"{p}:2: {field}: safety wording for critical warnings is fixed" in errors[0]


def test_risky_choices_are_warnings_with_lines(tmp_path):
    p = write(tmp_path, "p.yaml", """\
        name: Chatty
        answer_length:
          parked: {max_words: 120, max_sentences: 6}
          moving: {max_words: 80, max_sentences: 5}
        voice: {voice: en, rate_wpm: 300}
        decline_topics: [fuel]
        wake_word: hi
        """)
    errors, warnings = check_file(p)
    assert errors == []
    text = "\n".join(warnings)
    assert f"{p}:4: answer_length.moving.max_words: 80 words while driving exceeds the distraction limit of 30" in text
    assert "max_sentences: 5 sentences while driving" in text
    assert f"{p}:5: voice.rate_wpm" in text and f"{p}:6: decline_topics" in text and f"{p}:7: wake_word" in text


def test_persona_check_cli_exit_status(tmp_path):
    good = run_cli("persona", "check", *map(str, SHIPPED))
    assert good.returncode == 0 and good.stdout.count(": OK") == len(SHIPPED)
    bad = write(tmp_path, "bad.yaml", "name: X\nsafety: relax\n")
    r = run_cli("persona", "check", str(SHIPPED[0]), str(bad))
    assert r.returncode == 1 and "safety wording" in r.stdout
    risky = write(tmp_path, "risky.yaml", "name: X\nvoice: {voice: en, rate_wpm: 300}\n")
    assert run_cli("persona", "check", str(risky)).returncode == 0
    assert run_cli("persona", "check", "--strict", str(risky)).returncode == 1


# ----------------------------------------------------------------------------- effect on answers

def ask_all(persona_name, scenario, questions, model=None):
    persona = load_persona(persona_name)
    with LiveVehicle.from_scenario(scenario) as v:
        a = Assistant(v.state, model, persona=persona)
        return [a.ask(q) for q in questions]


def test_imperial_units_in_every_number_including_fallback():
    answers = ask_all("aurora", "flat_tyre", ["How far can I go?", "Are my tyres okay?", "engine temperature?",
                                             "When is my next service?"])
    texts = [a.text for a in answers]
    assert "379 mi" in texts[0] and "26 mi" in texts[0] and "km" not in texts[0]
    assert "14 psi" in texts[1] and "kPa" not in texts[1]
    assert "194 °F" in texts[2]
    assert "5095 mi" in texts[3]
    for a in answers:                                         # grounding holds after conversion
        assert a.fallback and check(a.text, [t.result for t in a.tools]).grounded


def test_french_persona_answers_in_french_with_decimal_comma_and_bar():
    range_, tyres, warn = ask_all("lumiere", "flat_tyre", ["How far can I go?", "Are my tyres okay?",
                                                           "any warning lights?"])
    assert "610 km" in range_.text and "autonomie" in range_.text.lower() or "pouvez" in range_.text
    assert re.search(r"(?<![\d,])(0,96|1|1,0) bar", tyres.text), tyres.text      # 96 kPa
    assert "pneu" in tyres.text.lower()
    assert "témoin" in warn.text.lower() and "pression des pneus" in warn.text.lower()


def test_french_safety_wording_is_the_approved_translation():
    (a,) = ask_all("lumiere", "oil_pressure_loss", ["How far can I go?"])
    assert a.text.startswith("Attention")
    assert a.safety and "huile" in a.safety[0].lower()


def test_length_cap_follows_driving_state():
    # moving (88 km/h): Vento allows one sentence; parked (speed 0): up to four.
    (moving,) = ask_all("vento", "service_due", ["When is my next service?"])
    assert moving.driving == "moving" and len(re.findall(r"[.!?](?:\s|$)", moving.text)) == 1
    persona = load_persona("vento")
    with LiveVehicle.from_scenario("service_due") as v:
        v.simulator.set({"Vehicle.Speed": 0})
        v.wait_for_values({"Vehicle.Speed": 0}, 2)
        parked = Assistant(v.state, None, persona=persona).ask("When is my next service?")
    assert parked.driving == "parked" and len(re.findall(r"[.!?](?:\s|$)", parked.text)) >= 2


def test_brand_wording_and_declined_topics():
    clear, declined = ask_all("aurora", "normal_drive", ["any warning lights?", "what do you think of competitors?"])
    assert "All clear, no warning lights on the dash." in clear.text
    assert declined.route == "off_topic" and "stick to range" in declined.text


def test_dealer_phrase_after_overdue_service():
    (a,) = ask_all("lumiere", "service_overdue", ["When is my next service?"])
    assert "concessionnaire Lumière" in a.text


def test_preview_cli_shows_persona_beside_default():
    r = run_cli("persona", "preview", "personas/aurora.yaml", "How far can I go?", "--scenario", "low_fuel",
                "--no-model")
    assert r.returncode == 0, r.stderr
    assert "Aurora" in r.stdout and "30 mi" in r.stdout and "default:" in r.stdout and "48 km" in r.stdout
