"""Routing accuracy of the deterministic matcher over tests/intents/*.yaml (no model).

The sentences are what drivers say; bench/routing_accuracy.py holds the loader and the scoring
(``.venv/bin/python bench/routing_accuracy.py`` prints the same figures and every miss).
"""

import importlib.util
import sys

import pytest

from tests.conftest import ROOT

MIN_ACCURACY = 0.95


def _bench():
    name = "routing_accuracy"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "routing_accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_intents_files_load_and_cover_every_topic():
    ra = _bench()
    cases = ra.load_intents()
    files = {c.file for c in cases}
    assert {"range.yaml", "energy.yaml", "warnings.yaml", "service.yaml", "tyres.yaml", "signals.yaml",
            "multi.yaml", "off_topic.yaml"} <= files
    assert len(cases) >= 180


def test_matcher_routing_accuracy():
    ra = _bench()
    outcomes = ra.run_router(ra.load_intents())
    s = ra.summarise(outcomes, "matcher", 0.0)
    misses = "\n".join(f"  [{m['file']}] {m['sentence']!r}: expected {m['expected']}, got {m['got']} ({m['source']})"
                       for m in s["misses"])
    assert s["accuracy"] >= MIN_ACCURACY, (
        f"matcher routing accuracy {s['correct']}/{s['total']} = {s['accuracy']:.1%} < {MIN_ACCURACY:.0%}; "
        f"misses:\n{misses}")


@pytest.mark.parametrize("text, fragment", [
    # unknown tool name
    ("tests:\n  - sentences: [\"how far can I go\"]\n    tools: [get_rnage]\n", "get_rnage"),
    # argument outside the tool's schema
    ("tests:\n  - sentences: [\"is the left tyre ok\"]\n"
     "    tools: [{name: get_tyre_pressures, arguments: {wheel: middle}}]\n", "wheel"),
    # no sentences key
    ("tests:\n  - tools: [get_range]\n", "sentences"),
    # not YAML at all
    ("tests: [\n  - sentences: {\n", "YAML"),
])
def test_malformed_intents_file_names_the_file(tmp_path, text, fragment):
    ra = _bench()
    (tmp_path / "good.yaml").write_text("tests:\n  - sentences: [\"range?\"]\n    tools: [get_range]\n")
    bad = tmp_path / "broken_tyres.yaml"
    bad.write_text(text)
    with pytest.raises(ra.IntentFileError) as e:
        ra.load_intents(tmp_path)
    msg = str(e.value)
    assert "broken_tyres.yaml" in msg
    assert fragment in msg


def test_malformed_item_is_named(tmp_path):
    ra = _bench()
    (tmp_path / "svc.yaml").write_text(
        "tests:\n"
        "  - sentences: [\"when is my next service\"]\n    tools: [get_service_status]\n"
        "  - sentences: [\"rear tyres?\"]\n    tools: [{name: get_tyre_pressures, arguments: {axle: rear}}]\n")
    with pytest.raises(ra.IntentFileError) as e:
        ra.load_intents(tmp_path)
    msg = str(e.value)
    assert "svc.yaml" in msg and "item 2" in msg and "rear tyres?" in msg


def test_bench_cli_reports_a_malformed_file(tmp_path):
    import subprocess
    (tmp_path / "oops.yaml").write_text("tests:\n  - sentences: [\"range?\"]\n    tools: [get_rnage]\n")
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "routing_accuracy.py"), "--dir", str(tmp_path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "oops.yaml" in r.stderr and "get_rnage" in r.stderr


def test_a_broken_language_table_names_file_field_and_pattern(tmp_path):
    from assistant.configfile import ConfigError, load_model
    from assistant.intent.languages import LanguageIntents
    bad = tmp_path / "de.yaml"
    bad.write_text("language: de\nmarkers: [ist, wie]\nrange: ['\\\\breichweite\\\\b', 'wie (weit']\n"
                   "signals:\n  Vehicle.Speeed: ['tempo']\n")
    with pytest.raises(ConfigError) as e:
        load_model(LanguageIntents, bad)
    msg = str(e.value)
    assert f"{bad}:3: range:" in msg and "'wie (weit'" in msg and "not a regular expression" in msg
    assert f"{bad}:5: signals:" in msg or "Vehicle.Speeed" in msg


def test_french_and_italian_questions_go_to_their_tables_and_english_stays_english():
    from assistant.intent.languages import detect
    from assistant.intent.matcher import match, normalise
    assert detect(normalise("Combien de carburant reste-t-il ?")).language == "fr"
    assert detect(normalise("Quanta benzina è rimasta?")).language == "it"
    for english in ["how far can I go on this charge?", "is there a red light on the dashboard",
                    "what's the coolant temperature in °C", "do I have a flat tyre?"]:
        assert detect(normalise(english)) is None, english
    assert [c.name for c in match("Et la pression des pneus ?")] == ["get_tyre_pressures"]


# ----------------------------------------------------------------------------- classes of phrasing

def test_spoken_trouble_codes_and_distances_become_digits():
    from assistant.intent import extract, languages
    en = languages.default()
    assert extract.spoken_codes("what does p zero four two zero mean", en.digit_words) == "what does p0420 mean"
    assert extract.spoken_codes("code p 0 1 7 1?", en.digit_words) == "code p0171?"
    assert extract.spoken_codes("p zero four", en.digit_words) == "p zero four"          # not four digits
    args = (en.number_words, en.number_scales, set(en.number_joiners), en.distance_unit_rx())
    assert extract.spoken_numbers("a place one hundred and twenty km away", *args) == "a place 120 km away"
    assert extract.spoken_numbers("thirty-five miles and one of my tyres", *args) == "35 miles and one of my tyres"


def test_a_speed_is_not_a_destination_and_a_distance_is_not_a_unit_request():
    from assistant.intent import extract
    from assistant.intent.matcher import unit_change, unit_requested
    assert extract.destination_km("i'm doing 120 km/h") is None
    assert extract.destination_km("80 km an hour, can I go on") is None
    assert extract.destination_km("the next town, 30 km") == 30
    assert extract.destination_km("how many kwh per 100 km") is None                 # a rate
    assert unit_requested("can I keep driving to the next town, 30 km") is None
    assert unit_change("can I make it 50 miles?") == "mi"               # the answer is wanted in miles
    assert unit_requested("and in miles?") == "mi"


def test_an_axle_and_a_side_said_apart_name_one_wheel():
    from assistant.intent.matcher import match
    assert match("how are the front tyres on the driver's side")[0].arguments == {"wheel": "front_left"}
    assert match("are the rear tyres on the passenger side ok")[0].arguments == {"wheel": "rear_right"}
    assert match("are the front tyres ok right now")[0].arguments == {"wheel": "front"}


def test_a_question_in_another_language_without_its_markers_is_routed_by_that_table():
    from assistant.intent.languages import detect
    from assistant.intent.matcher import analyse, normalise
    for question, language in [("chilometraggio?", "it"), ("kilométrage ?", "fr")]:
        assert detect(normalise(question)) is None
        a = analyse(question)
        assert a.language == language and [c.arguments for c in a.calls] == [{"name": "Vehicle.TraveledDistance"}]


def test_transcript_repairs_and_shared_words_are_table_data():
    """A language's fillers, mishearings and shared words are words in its table, not code."""
    from assistant.intent.languages import LanguageIntents
    from assistant.intent.matcher import analyse, match_table
    t = LanguageIntents.model_validate({
        "language": "xx", "tyres": [r"\bgomma\b"], "fillers": [r"\bhum\b"], "heard_as": {r"\bgoma\b": "gomma"},
        "signals": {"Vehicle.LowVoltageBattery.CurrentVoltage": [r"\bvolt\b"]},
        "shared": {"vuoto": {"word": r"\bvuot[oa]\b", "default": "tyres",
                             "senses": [{"to": "Vehicle.LowVoltageBattery.CurrentVoltage", "when": [r"\baccu\b"]}]}}})
    assert [c.name for c in match_table(t, "hum la goma")] == ["get_tyre_pressures"]
    assert [c.arguments for c in match_table(t, "accu vuoto")] == [{"name": "Vehicle.LowVoltageBattery.CurrentVoltage"}]
    assert [c.name for c in match_table(t, "vuoto")] == ["get_tyre_pressures"]
    assert "shared word 'flat'" in analyse("is it flat?").reasons


def test_a_table_with_an_unknown_sense_or_decline_topic_is_refused(tmp_path):
    from assistant.configfile import ConfigError, load_model
    from assistant.intent.languages import LanguageIntents
    bad = tmp_path / "xx.yaml"
    bad.write_text("language: xx\nshared:\n  flat:\n    word: ['\\\\bflat\\\\b']\n    default: tyre\n")
    with pytest.raises(ConfigError) as e:
        load_model(LanguageIntents, bad)
    assert "shared" in str(e.value) and "'tyre'" in str(e.value)
    bad.write_text("language: xx\ndeclines:\n  - reason: other car\n    words: ['tesla']\n    unless: [rnage]\n")
    with pytest.raises(ConfigError) as e:
        load_model(LanguageIntents, bad)
    assert "declines" in str(e.value)


def test_number_words_written_together_or_hyphenated_are_read_and_other_words_are_not():
    from assistant.intent import extract, languages
    it = next(t for t in languages.tables() if t.language == "it")
    fr = next(t for t in languages.tables() if t.language == "fr")
    assert extract.number_pieces("quattrocentocinquanta", it.number_words, it.number_scales) == \
        ["quattro", "cento", "cinquanta"]
    assert extract.number_pieces("trentotto", it.number_words, it.number_scales) == ["trenta", "otto"]
    assert extract.number_pieces("quatre-vingt-dix", fr.number_words, fr.number_scales) == ["quatre-vingt", "dix"]
    for word in ("seicentesco", "trentino", "centro", "dixième"):
        assert extract.number_pieces(word, {**it.number_words, **fr.number_words},
                                     {**it.number_scales, **fr.number_scales}) is None, word


def test_a_first_word_cut_by_the_recogniser_is_restored_only_when_one_word_fits():
    from assistant.intent import extract
    words = ["range", "tyres", "tires", "engine", "how", "oil"]
    assert extract.unclipped("ngine temperature", words) == "engine temperature"
    assert extract.unclipped("ires ok?", words) == "tyres ok?"          # tires or tyres: one word
    assert extract.unclipped("range left", words) == "range left"       # a whole word stays
    assert extract.unclipped("il reste combien", words) == "il reste combien"   # two letters left: not restored
    assert extract.unclipped("ange", ["range", "orange"]) == "ange"      # two words fit: not restored
