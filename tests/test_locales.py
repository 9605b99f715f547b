"""Answer texts per language (assistant/data/locales/<lang>.yaml).

Every locale has exactly the keys of en.yaml, the same {placeholders} in every phrase, and a
non-empty, digit-free safety wording for every critical lamp. Real tool results over simulated
cars render in each language with the scenario's numbers, converted to the listener's units.
"""

import re
import string
from pathlib import Path

import pytest
import yaml

from assistant.answer.render import LOCALES_DIR, Style, render, render_warnings, Rendering
from assistant.tools.vehicle import TOOLS, VehicleView
from assistant.vehicle import LiveVehicle

LOCALE_FILES = sorted(LOCALES_DIR.glob("*.yaml"))
LANGS = [p.stem for p in LOCALE_FILES]
OTHER_LANGS = [lang for lang in LANGS if lang != "en"]

CALLS = [("get_range", {}), ("get_tyre_pressures", {}), ("get_service_status", {}), ("get_warnings", {}),
         ("get_energy_level", {}),
         ("read_signal", {"name": "Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature"})]


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


EN = load(LOCALES_DIR / "en.yaml")


def leaves(tree, prefix=()):
    """(key path, value) for every leaf of a nested mapping."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, prefix + (key,))
        else:
            yield prefix + (key,), value


def key_paths(tree, prefix=()):
    """Every key path, inner nodes included, so a leaf turned into a mapping is caught too."""
    for key, value in tree.items():
        yield prefix + (key,)
        if isinstance(value, dict):
            yield from key_paths(value, prefix + (key,))


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def critical_lamps() -> list[str]:
    return [name for name, t in EN["telltales"].items() if "safety" in t]


# ----------------------------------------------------------------------------- the files

def test_french_and_italian_exist():
    assert {"en", "fr", "it"} <= set(LANGS)


@pytest.mark.parametrize("lang", LANGS)
def test_same_keys_as_english(lang):
    texts = load(LOCALES_DIR / f"{lang}.yaml")
    mine, ref = set(key_paths(texts)), set(key_paths(EN))
    assert not ref - mine, f"{lang}: missing keys {sorted(ref - mine)}"
    assert not mine - ref, f"{lang}: keys not in en.yaml {sorted(mine - ref)}"


@pytest.mark.parametrize("lang", LANGS)
def test_every_text_is_a_non_empty_string(lang):
    # Catches YAML surprises such as an unquoted `no:` / `on` turning into a boolean.
    for path, value in leaves(load(LOCALES_DIR / f"{lang}.yaml")):
        assert isinstance(value, str), f"{lang}: {'.'.join(map(str, path))} is {value!r}, not text"
        assert value.strip(), f"{lang}: {'.'.join(map(str, path))} is empty"


@pytest.mark.parametrize("lang", LANGS)
def test_same_placeholders_as_english(lang):
    texts = load(LOCALES_DIR / f"{lang}.yaml")
    ref = dict(leaves(EN))
    for path, value in leaves(texts):
        if path in ref and isinstance(value, str):
            name = ".".join(map(str, path))
            assert placeholders(value) == placeholders(ref[path]), (
                f"{lang}: {name} has {sorted(placeholders(value))}, en.yaml has {sorted(placeholders(ref[path]))}")


@pytest.mark.parametrize("lang", LANGS)
def test_joiners_keep_their_spaces(lang):
    phrases = load(LOCALES_DIR / f"{lang}.yaml")["phrases"]
    for key in ("and", "or"):
        assert phrases[key].startswith(" ") and phrases[key].endswith(" ") and phrases[key].strip(), (lang, key)


def test_english_has_critical_lamps():
    assert set(critical_lamps()) >= {"OilPressure", "BrakeSystem", "CoolantTemperature", "BatteryCharge", "Airbag",
                                     "CheckEngine"}


@pytest.mark.parametrize("lang", LANGS)
def test_safety_wording_for_every_critical_lamp(lang):
    telltales = load(LOCALES_DIR / f"{lang}.yaml")["telltales"]
    for name in critical_lamps():
        safety = telltales[name].get("safety")
        assert isinstance(safety, str) and safety.strip(), f"{lang}: no safety wording for {name}"
        assert not re.search(r"\d", safety), f"{lang}: safety wording for {name} has a digit: {safety!r}"
        assert not placeholders(safety), f"{lang}: safety wording for {name} has placeholders"


@pytest.mark.parametrize("lang, opening", [("en", "Warning: "), ("fr", "Attention : "), ("it", "Attenzione: ")])
def test_safety_wording_opens_with_the_warning_word(lang, opening):
    style = Style(locale=lang)
    for name in critical_lamps():
        assert style.telltale(name)["safety"].startswith(opening), (lang, name)


# ----------------------------------------------------------------------------- rendering real results

def tool_results(scenario: str):
    with LiveVehicle.from_scenario(scenario) as v:
        view = VehicleView.of(v.state)
        return [(name, TOOLS[name].call(view, args)) for name, args in CALLS]


@pytest.fixture(scope="module")
def results():
    return {s: tool_results(s) for s in ("flat_tyre", "low_fuel", "service_overdue", "brake_fault")}


def metric(lang: str) -> Style:
    return Style(locale=lang, decimal_comma=lang != "en")


def imperial(lang: str) -> Style:
    return Style(locale=lang, distance="mi", pressure="bar", temperature="°F", decimal_comma=lang != "en")


# Words a listener must hear in each language (and English words that must not leak in).
WORDS = {
    "fr": {"flat_tyre": ["autonomie", "pneu", "arrière gauche", "entretien", "96 jours", "témoin", "réservoir"],
           "service_overdue": ["entretien est en retard", "1200 km et 10 jours", "Tous les pneus"],
           "low_fuel": ["Je ne peux pas lire la pression des pneus", "réserve de carburant"]},
    "it": {"flat_tyre": ["autonomia", "pneumatico", "posteriore sinistro", "tagliando", "96 giorni", "spia",
                         "serbatoio"],
           "service_overdue": ["tagliando è in ritardo", "1200 km e 10 giorni", "Tutti gli pneumatici"],
           "low_fuel": ["non riesco a leggere la pressione degli pneumatici", "riserva carburante"]},
}
ENGLISH = ["tyre", "You can", "warning", "service", "The ", " is ", "flashing", "days"]


@pytest.mark.parametrize("lang", LANGS)
def test_flat_tyre_numbers_in_every_language(lang, results):
    text = render(results["flat_tyre"], metric(lang)).text
    for number in ["610 km", "42 km", "96 kPa", "8200 km", "62 %", "78 %", "64 %", "90 °C"]:
        assert number in text, f"{lang}: {number!r} missing in {text!r}"


@pytest.mark.parametrize("lang", OTHER_LANGS)
def test_sentences_start_with_a_capital(lang, results):
    for scenario, res in results.items():
        for sentence in render(res, metric(lang)).sentences:
            assert sentence[:1].isupper(), f"{lang}/{scenario}: {sentence!r}"


@pytest.mark.parametrize("lang", ["fr", "it"])
@pytest.mark.parametrize("scenario", ["flat_tyre", "service_overdue", "low_fuel"])
def test_words_of_the_language(lang, scenario, results):
    text = render(results[scenario], metric(lang)).text
    for word in WORDS[lang][scenario]:
        assert word in text, f"{lang}/{scenario}: {word!r} missing in {text!r}"
    for word in ENGLISH:
        assert word not in text, f"{lang}/{scenario}: English {word!r} in {text!r}"


@pytest.mark.parametrize("lang", ["fr", "it"])
def test_tyre_low_sentence(lang, results):
    text = render(results["flat_tyre"], metric(lang)).text
    expected = {"fr": "Pression basse sur le pneu arrière gauche : 96 kPa ; les autres pneus sont bien gonflés.",
                "it": "Pressione bassa sullo pneumatico posteriore sinistro: 96 kPa; gli altri sono a posto."}[lang]
    assert expected in text


@pytest.mark.parametrize("lang", LANGS)
def test_units_converted_for_the_listener(lang, results):
    text = render(results["flat_tyre"], imperial(lang)).text
    for number in ["379 mi", "26 mi", "5095 mi", "194 °F"]:
        assert number in text, f"{lang}: {number!r} missing in {text!r}"
    # 96 kPa = 0.96 bar: below 1 bar two decimals, so a flat tyre is not rounded up to "1 bar".
    assert ("0,96 bar" if lang != "en" else "0.96 bar") in text, text
    for metric_unit in (" km", "kPa", "°C"):
        assert metric_unit not in text, f"{lang}: {metric_unit!r} left in {text!r}"


@pytest.mark.parametrize("lang", OTHER_LANGS)
def test_decimal_comma(lang, results):
    text = render(results["service_overdue"], imperial(lang)).text
    assert text.count("2,4 bar") == 4, text          # 240, 238, 236, 237 kPa
    assert "746 mi" in text                           # overdue by 1200 km
    assert not re.search(r"\d\.\d", text), text


@pytest.mark.parametrize("lang", LANGS)
def test_service_overdue(lang, results):
    style = metric(lang)
    r = render(results["service_overdue"], style)
    parts = f"1200 km{style.phrase('and')}10 {style.word('days')}"
    assert style.phrase("service_overdue", parts=parts) in r.text
    assert "0 %" in r.text


@pytest.mark.parametrize("lang", LANGS)
def test_low_fuel_cannot_read_tyres(lang, results):
    style = metric(lang)
    r = render(results["low_fuel"], style)
    assert r.cant_read
    assert style.phrase("cant_read", what=style.what("tyres")) in r.text
    assert style.phrase("cant_read", what=style.what("service")) in r.text
    assert "48 km" in r.text and "7 %" in r.text
    assert style.phrase("low_fuel_on") in r.text


@pytest.mark.parametrize("lang", LANGS)
def test_critical_lamps_render_with_their_safety_wording(lang, results):
    style = metric(lang)
    warnings = dict(results["brake_fault"])["get_warnings"]
    assert warnings.critical
    out = Rendering()
    render_warnings(warnings, style, out, include_critical=True)
    for w in warnings.active:
        assert style.telltale(w.name)["label"] in out.text
    for w in warnings.critical:
        assert style.telltale(w.name)["safety"] == load(LOCALES_DIR / f"{lang}.yaml")["telltales"][w.name]["safety"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_phrase_formats(lang):
    """Each phrase takes exactly the English placeholders (what render.py passes) without error."""
    style = Style(locale=lang)
    for key, text in EN["phrases"].items():
        kw = {name: f"<{name}>" for name in placeholders(text)}
        out = style.phrase(key, **kw)
        assert "{" not in out and "}" not in out, (lang, key, out)
