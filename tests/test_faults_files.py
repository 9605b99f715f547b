"""Hostile and broken user files: YAML alias bombs, deep nesting, huge files, absurd timeline
times, persona format specs, ``extends:`` at a file that is not a persona, health claims in
persona texts. Each is refused fast, in one bounded line that names the file (and the line)."""

import textwrap
import time

import pytest

from assistant.sim.scenario import load_scenario
from assistant.can.profile import load_profile
from assistant.config import load_config
from assistant.configfile import MAX_FILE_BYTES, ConfigError, read_yaml
from assistant.dialogue.suite import load_suite
from assistant.persona import check_file, load_persona
from assistant.speech.stt import load_vocabulary

from .conftest import ROOT, run_cli

LOADERS = {"scenario": load_scenario, "persona": load_persona, "suite": load_suite, "vehicle map": load_profile,
           "head-unit config": lambda p: load_config(p, load_gguf=False), "voice vocabulary": load_vocabulary}
FAST_S = 2.0          # "well under a second" on a laptop; loose for a loaded CI machine
MAX_MESSAGE = 600


def alias_bomb(levels: int, width: int = 9) -> str:
    """Billion laughs: each level is ``width`` aliases of the one before (width**levels leaves)."""
    lines = [f"l0: &l0 [{', '.join(['x'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def refused(loader, path) -> tuple[str, float]:
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as e:
        loader(path)
    return str(e.value), time.perf_counter() - t0


@pytest.mark.parametrize("kind", LOADERS)
def test_an_alias_bomb_is_refused_at_once_in_every_user_file(tmp_path, kind):
    bomb = alias_bomb(9)
    assert len(bomb) < 600                              # the 532-byte bomb hung scenario loading > 150 s
    p = tmp_path / "bomb.yaml"
    p.write_text(bomb)
    msg, took = refused(LOADERS[kind], p)
    assert took < FAST_S
    assert "\n" not in msg and len(msg) < MAX_MESSAGE
    assert msg.startswith(f"{p}:") and "aliases expand to more than" in msg


def test_a_wider_alias_bomb_gives_a_short_message_not_megabytes(tmp_path):
    # 820 bytes: expanded, its values made a 49.8 MB "expected a number, got [...]" message.
    p = tmp_path / "s.yaml"
    p.write_text(alias_bomb(9, width=16) + "name: b\nsignals: {Vehicle.Speed: *l8}\n")
    assert 600 < p.stat().st_size < 1000
    msg, took = refused(load_scenario, p)
    assert took < FAST_S and len(msg) < MAX_MESSAGE and "\n" not in msg


def test_a_recursive_alias_is_refused(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: r\nsignals: &s {Vehicle.Speed: *s}\n")
    msg, took = refused(load_scenario, p)
    assert took < FAST_S and f"{p}:2: refused: alias *s is inside the collection it names" in msg


def test_too_many_aliases_are_refused(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: many\nv: &v 1\nlist: [" + ", ".join(["*v"] * 101) + "]\n")
    msg, _ = refused(load_scenario, p)
    assert f"{p}:3: refused: more than 100 aliases" in msg


def test_aliases_and_merge_keys_within_the_limits_still_work(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(textwrap.dedent("""\
        name: anchors
        signals: &base
          Vehicle.Speed: 50
          Vehicle.Powertrain.FuelSystem.RelativeLevel: 40
        timeline:
          - at: 5
            set: {<<: *base, Vehicle.Speed: 0}
        """))
    s = load_scenario(p)
    assert s.state_at(10)["Vehicle.Speed"] == 0 and s.state_at(10)["Vehicle.Powertrain.FuelSystem.RelativeLevel"] == 40
    _, node = read_yaml(p)                 # the composed tree stays as written (lines, duplicates)
    assert node.value[2][1].value[0].value[1][1].value[0][0].value == "<<"


@pytest.mark.parametrize("kind", LOADERS)
@pytest.mark.parametrize("style", ["flow", "block"])
def test_deep_nesting_is_refused_not_a_recursion_error(tmp_path, kind, style):
    p = tmp_path / "deep.yaml"
    if style == "flow":
        p.write_text("name: deep\nsignals: " + "[" * 20000 + "]" * 20000 + "\n")
        line = 2
    else:
        p.write_text("name: deep\n" + "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n")
        line = 2 + 64                   # the 65th mapping starts on line 66
    msg, took = refused(LOADERS[kind], p)
    assert took < FAST_S and "\n" not in msg and len(msg) < MAX_MESSAGE
    assert msg == f"{p}:{line}: refused: nested more than 64 levels deep (a limit on user files)"


@pytest.mark.parametrize("kind", LOADERS)
def test_a_file_over_a_mebibyte_is_refused_without_parsing_it(tmp_path, kind):
    p = tmp_path / "big.yaml"
    p.write_text("name: big\n" + "# padding padding padding padding padding padding padding\n" * (MAX_FILE_BYTES // 50))
    assert p.stat().st_size > MAX_FILE_BYTES
    msg, took = refused(LOADERS[kind], p)
    assert took < FAST_S and msg == f"{p}: file is larger than 1024 KiB (a limit on user files)"


def test_a_scalar_python_cannot_hold_is_a_config_error(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: n\nsignals: {Vehicle.Speed: " + "9" * 5000 + "}\n")
    msg, _ = refused(load_scenario, p)
    assert msg.startswith(f"{p}: invalid YAML value: ") and len(msg) < MAX_MESSAGE
    p.write_text("name: n\ndescription: 2001-13-45\n")
    assert "month must be in 1..12" in refused(load_scenario, p)[0]


def test_a_long_value_in_an_error_is_cut_to_one_bounded_line(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: n\nsignals:\n  Vehicle.Speed: [" + ", ".join(["fast"] * 20000) + "]\n")
    msg, _ = refused(load_scenario, p)
    assert msg.startswith(f"{p}:3: signals.Vehicle.Speed: expected a number") and len(msg) <= 500


@pytest.mark.parametrize("at, shown", [("1e300", "1e+300"), (".inf", "inf"), (".nan", "nan"), ("-1", "-1"),
                                       ("86401", "86401")])
def test_a_timeline_time_beyond_a_day_is_refused_at_its_line(tmp_path, at, shown):
    # at: 1e300 passed, then the simulator's timeline thread died on Event.wait(1e300) (exit 0).
    p = tmp_path / "s.yaml"
    p.write_text(f"name: far\nsignals: {{Vehicle.Speed: 10}}\ntimeline:\n  - at: {at}\n    set: {{Vehicle.Speed: 0}}\n")
    msg, _ = refused(load_scenario, p)
    assert msg == (f"{p}:4: timeline.0.at: must be a number of seconds from 0 to 86400 (one day), got {shown}")


def test_a_timeline_time_beyond_a_day_fails_the_command_not_the_thread(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: far\nsignals: {Vehicle.Speed: 10}\ntimeline:\n  - at: 1e300\n    set: {Vehicle.Speed: 0}\n")
    r = run_cli("simulate", str(p), "--duration", "1", timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and f"{p}:4: timeline.0.at" in r.stderr


def test_a_day_is_still_a_valid_time(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("name: day\nsignals: {Vehicle.Speed: 10}\ntimeline:\n  - at: 86400\n    set: {Vehicle.Speed: 0}\n")
    assert load_scenario(p).timeline[0].at == 86400


# ----------------------------------------------------------------------------- personas

def persona(tmp_path, body, name="p.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(body))
    return p


@pytest.mark.parametrize("text, shown", [
    ("You can drive about {fuel:>30000000}", "{fuel:>30000000}"),
    ("You can drive about {fuel!r}", "{fuel!r}"),
    ("You can drive about {fuel.__class__}", "{fuel.__class__}"),
    ("You can drive about {fuel[0]}", "{fuel[0]}"),
])
def test_a_format_spec_in_a_persona_text_is_refused(tmp_path, text, shown):
    p = persona(tmp_path, f'name: X\nwording:\n  range_fuel: "{text}"\n')
    errors, _ = check_file(p)
    assert errors == [f"{p}:3: wording.range_fuel: placeholder {shown} is not allowed: only plain {{name}} "
                      "placeholders, without format specs, conversions, attributes or indexes"]


def test_a_format_spec_cannot_make_a_30_mb_answer(tmp_path):
    p = persona(tmp_path, 'name: X\nwording:\n  range_fuel: "You can drive about {fuel:>30000000}"\n')
    r = run_cli("ask", "--scenario", "low_fuel", "--persona", str(p), "--no-model", "How far can I go?")
    assert r.returncode == 2 and len(r.stdout) < 1000 and "placeholder {fuel:>30000000} is not allowed" in r.stderr


def test_decline_text_placeholders_and_braces_are_checked(tmp_path):
    p = persona(tmp_path, 'name: X\ndecline_text: "Not {topic:>999}"\n')
    assert "placeholder {topic:>999} is not allowed" in check_file(p)[0][0]
    p = persona(tmp_path, 'name: X\ndecline_text: "Only {car}"\n')
    assert check_file(p)[0] == [f"{p}:2: decline_text: must keep the placeholders [], has ['car']"]
    p = persona(tmp_path, 'name: X\nwording: {no_codes: "No codes {"}\n')
    assert "broken placeholder" in check_file(p)[0][0]


SECRET = "root:$6$s3cr3tH4sh:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"


@pytest.mark.parametrize("target", ["secret", "secret.yaml", "mapping.yaml", "/etc/shadow"])
def test_extends_never_shows_a_file_that_is_not_a_persona(tmp_path, target):
    (tmp_path / "secret").write_text(SECRET)
    (tmp_path / "secret.yaml").write_text(SECRET)
    (tmp_path / "mapping.yaml").write_text("db_password: hunter2\nname: x\napi_key: AKIA1234\n")
    p = persona(tmp_path, f"name: Child\nextends: {target}\n")
    errors, _ = check_file(p)
    text = "\n".join(errors)
    assert len(errors) == 1 and errors[0].startswith(f"{p}:2: extends: ")
    for leak in ("root", "daemon", "s3cr3t", "19000", "hunter2", "db_password", "api_key", "AKIA"):
        assert leak not in text.replace(str(tmp_path), "")
    r = run_cli("persona", "check", str(p))
    assert r.returncode == 1 and "root:" not in r.stdout + r.stderr and "unknown field" not in r.stdout + r.stderr


def test_a_persona_path_must_be_yaml(tmp_path):
    (tmp_path / "secret").write_text(SECRET)
    errors, _ = check_file(tmp_path / "secret")
    assert errors == [f"{tmp_path / 'secret'}: not a persona file (persona files are .yaml or .yml)"]
    p = persona(tmp_path, "db_password: hunter2\napi_key: AKIA1234\n", "other.yaml")
    assert check_file(p)[0] == [f"{p}: not a persona: none of its keys is a persona field (see docs/personas.md)"]


def test_a_real_base_persona_still_works(tmp_path):
    p = persona(tmp_path, f"extends: {ROOT / 'personas' / 'aurora.yaml'}\nname: Child\n")
    assert check_file(p)[0] == []
    assert load_persona(p).units.distance == "mi"


HEALTHY = "Everything is fine, keep driving."


@pytest.mark.parametrize("body, line, field", [
    (f"decline_text: {HEALTHY}\n", 2, "decline_text"),
    (f"greeting: Hi! {HEALTHY}\n", 2, "greeting"),
    (f"wording:\n  unclear: Sorry? Anyway, your car is OK.\n", 3, "wording.unclear"),
    (f"wording:\n  decline: {HEALTHY}\n", 3, "wording.decline"),
    (f"wording:\n  nothing_heard: {HEALTHY}\n", 3, "wording.nothing_heard"),
    (f"wording:\n  greeting: Hello, no problems today.\n", 3, "wording.greeting"),
])
def test_a_health_claim_in_a_text_said_without_a_reading_is_refused(tmp_path, body, line, field):
    p = persona(tmp_path, "name: X\n" + body)
    errors, _ = check_file(p)
    assert len(errors) == 1 and errors[0].startswith(f"{p}:{line}: {field}: says the car is fine (")
    assert "said without reading the car" in errors[0]


@pytest.mark.parametrize("text", ["Everything is fine.", "Your car is in perfect shape.",
                                  "No warning lights: all systems normal."])
def test_no_warnings_may_not_claim_the_whole_car_is_healthy(tmp_path, text):
    p = persona(tmp_path, f"name: X\nwording:\n  no_warnings: '{text}'\n")
    errors, _ = check_file(p)
    assert len(errors) == 1 and errors[0].startswith(f"{p}:3: wording.no_warnings: claims the whole car is fine (")


def test_no_warnings_may_say_the_lamps_are_off(tmp_path):
    assert check_file(ROOT / "personas" / "aurora.yaml") == ([], [])
    p = persona(tmp_path, "name: X\nwording:\n  no_warnings: All clear, no warning lights on the dash.\n"
                          "  tyres_all_ok: 'All tyres are fine: {list}.'\n")
    assert check_file(p)[0] == []
