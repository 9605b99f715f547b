"""``assistant dialogue run --jobs N``: suites in worker processes give the serial run's summary
and JUnit XML (same turns, pass counts, tool-selection figures, test cases, order)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import ROOT, run_cli

SUITES = [f"tests/dialogues/{n}.yaml" for n in ("proactive", "brake_fault", "service_overdue")]


def _figures(stdout: str) -> dict:
    """What must not depend on --jobs: per-suite lines, turn and pass counts, Pass^k, tools."""
    turns = re.search(r"^turns: (\d+)  pass rate: \S+ \((\d+)/(\d+)[^)]*\)(?:  Pass\^\d+: \S+ \((\d+)/(\d+)\))?",
                      stdout, re.M)
    tools = re.search(r"^tool-selection accuracy: .*$", stdout, re.M)
    assert turns and tools, stdout
    return {"suites": re.findall(r"^\[run \d+/\d+\] .*$", stdout, re.M), "turns": turns.groups(),
            "tools": tools.group(0)}


def _cases(xml_path) -> list[tuple]:
    root = ET.parse(xml_path).getroot()
    return [(ts.get("file"), ts.get("tests"), ts.get("failures"), tc.get("classname"), tc.get("name"), tc.get("line"))
            for ts in root.iter("testsuite") for tc in ts.iter("testcase")]


def _run(tmp_path, jobs: int, *extra: str):
    out = tmp_path / f"jobs{jobs}.xml"
    r = run_cli("dialogue", "run", *SUITES, "--jobs", str(jobs), "--junit", str(out), *extra, timeout=900)
    assert r.returncode in (0, 1), r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return r, out


@pytest.mark.parametrize("extra", [("--no-model", "--repeat", "2"), ()], ids=["no-model-repeat2", "default-model"])
def test_jobs_2_gives_the_serial_summary_and_junit(tmp_path, extra):
    serial, serial_xml = _run(tmp_path, 1, *extra)
    parallel, parallel_xml = _run(tmp_path, 2, *extra)
    assert _figures(parallel.stdout) == _figures(serial.stdout)
    assert parallel.returncode == serial.returncode
    assert _cases(parallel_xml) == _cases(serial_xml)
    assert len(_cases(serial_xml)) == int(_figures(serial.stdout)["turns"][0]) == 11


def test_jobs_order_is_the_serial_order_not_finish_order(tmp_path):
    # the longest suite first: a worker finishes the later, shorter ones before it
    files = [SUITES[1], SUITES[0], SUITES[2]]
    r = run_cli("dialogue", "run", *files, "--jobs", "3", "--no-model")
    assert r.returncode == 0, r.stderr
    assert [line.split("] ")[1].split(":")[0] for line in _figures(r.stdout)["suites"]] == files


def test_jobs_broken_suite_reported_before_anything_runs(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nscenario: low_fuel\nsteps:\n  - say: hi\n    expect: {nope: 1}\n")
    serial = run_cli("dialogue", "run", SUITES[0], str(bad), "--no-model")
    parallel = run_cli("dialogue", "run", SUITES[0], str(bad), "--no-model", "--jobs", "2")
    assert serial.returncode == parallel.returncode == 2
    assert parallel.stderr == serial.stderr and parallel.stderr.startswith("error: ")
    assert parallel.stdout == serial.stdout == ""


def test_jobs_bad_values_and_bad_model(tmp_path):
    r = run_cli("dialogue", "run", SUITES[0], "--jobs", "0")
    assert r.returncode == 2 and "--jobs must be at least 1" in r.stderr
    r = run_cli("dialogue", "run", SUITES[0], "--jobs", "2", "--model", str(tmp_path / "missing.gguf"))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and "not found" in r.stderr
    assert "Traceback" not in r.stderr


def test_worker_threads_share_the_cores():
    from assistant.dialogue.runner import worker_threads
    assert worker_threads(1, cores=2) == 2
    assert worker_threads(2, cores=2) == 1
    assert worker_threads(3, cores=2) == 1
    assert worker_threads(2, cores=16) == 8
