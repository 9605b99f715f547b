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
