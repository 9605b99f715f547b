"""Run dialogue suites through the real pipeline (simulator -> virtual bus -> reader -> loop)
and check every turn's expectations; summaries, Pass^k and JUnit XML."""

from __future__ import annotations

import os
import re
import signal
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answer.grounding import CANT_READ_RE
from assistant.sim.scenario import resolve_scenario_path, scenario_from_dict
from assistant.dialogue.suite import ANSWER_UNITS, Expect, Suite, canonical_unit
from assistant.persona import load_persona, resolve_persona_path
from assistant.assembly import build_assistant
from assistant.pipeline import Answer
from assistant.state import units as unitconv
from assistant.vehicle import LiveVehicle

NUMBER_UNIT_RE = re.compile(r"(-?\d+(?:[.,]\d+)?)\s?(" + "|".join(map(re.escape, ANSWER_UNITS)) + ")?")


@dataclass
class TurnResult:
    suite: str
    file: str
    index: int                       # 0-based index in the suite's steps
    say: str
    turn: int = 0                    # 1-based number of this `say` step among the suite's turns
    line: int | None = None          # line of the step in the file
    failures: list[str] = field(default_factory=list)
    answer: Answer | None = None
    tools_checked: bool = False
    tools_ok: bool = False
    alerts: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def latency_ms(self) -> float | None:
        return self.answer.timings_ms.get("total") if self.answer else None

    @property
    def name(self) -> str:
        """How a suite author finds the turn: ``turn 2 (step 3): how far can I go?``."""
        return f"turn {self.turn or '?'} (step {self.index + 1}): {self.say}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


def check_turn(expect: Expect | None, answer: Answer, alerts: list | None = None) -> tuple[list[str], bool | None]:
    """Failures of one answer against its expectations; and whether the tools matched (None: not checked)."""
    if expect is None:
        return [], None
    fails: list[str] = []
    text = answer.text
    low = text.lower()
    tools_ok = None
    calls = expect.calls()
    if calls is not None:
        got = [t for t in answer.tools if t.reason == "asked"]
        got_names = sorted(t.name for t in got)
        tools_ok = got_names == sorted(c.name for c in calls)
        for c in calls:
            match = [t for t in got if t.name == c.name]
            for k, v in c.arguments.items():
                if not any(_arg_equal(t.arguments.get(k), v) for t in match):
                    tools_ok = False
                    fails.append(f"expect.tools: {c.name}: expected argument {k}={v!r}, got "
                                 f"{[t.arguments for t in match]}")
        if got_names != sorted(c.name for c in calls):
            fails.append(f"expect.tools: expected {sorted(c.name for c in calls)}, got {got_names}")
    for s in expect.contains:
        if s.lower() not in low:
            fails.append(f"expect.contains: does not contain {s!r}")
    if expect.contains_any and not any(s.lower() in low for s in expect.contains_any):
        fails.append(f"expect.contains_any: contains none of {expect.contains_any}")
    for s in expect.not_contains:
        if s.lower() in low:
            fails.append(f"expect.not_contains: contains {s!r}")
    said = [(float(n.replace(",", ".")), u) for n, u in NUMBER_UNIT_RE.findall(_strip_codes(text))]
    for j, n in enumerate(expect.numbers):
        if not any(abs(v - n.value) <= n.tolerance and (n.unit is None or _same_unit(u, n.unit)) for v, u in said):
            fails.append(f"expect.numbers.{j}: no number {n.value:g}{' ' + n.unit if n.unit else ''} "
                         f"(±{n.tolerance:g})")
    body = text
    for s in answer.safety:
        body = body.replace(s, "")
    if expect.no_numbers and re.search(r"\d", _strip_codes(body)):
        fails.append("expect.no_numbers: contains a number")
    if expect.cant_read is not None and bool(CANT_READ_RE.search(text)) != expect.cant_read:
        fails.append("expect.cant_read: " + ("does not say it cannot read a value" if expect.cant_read
                                             else "says it cannot read a value"))
    if expect.grounded is not None and answer.grounded != expect.grounded:
        fails.append(f"expect.grounded: grounded is {answer.grounded}")
    if expect.fallback is not None and answer.fallback != expect.fallback:
        fails.append(f"expect.fallback: fallback is {answer.fallback}")
    if expect.safety is not None:
        has = bool(answer.safety) and text.startswith(answer.safety[0])
        if has != expect.safety:
            fails.append("expect.safety: " + ("no safety wording first" if expect.safety
                                              else "unexpected safety wording"))
    if expect.route is not None and answer.route != expect.route:
        fails.append(f"expect.route: route is {answer.route}")
    if expect.max_words is not None:
        n = len(body.split())
        if n > expect.max_words:
            fails.append(f"expect.max_words: {n} words (max {expect.max_words})")
    if expect.latency_ms is not None and answer.timings_ms.get("total", 0) > expect.latency_ms:
        fails.append(f"expect.latency_ms: took {answer.timings_ms['total']:.0f} ms (budget {expect.latency_ms:g})")
    if expect.alert is not None:
        got_alerts = sorted(a.lamp for a in (alerts or []))
        if got_alerts != sorted(expect.alert):
            fails.append(f"expect.alert: proactive alerts: expected {sorted(expect.alert)}, got {got_alerts}")
    return fails, tools_ok


def _strip_codes(text: str) -> str:
    return re.sub(r"\b[PCBU][0-3][0-9A-F]{3}\b", " ", text)


def _arg_equal(got, want) -> bool:
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return abs(got - want) <= 1.0
    return got == want


def _same_unit(said: str, want: str) -> bool:
    if not said:
        return False
    if said == want:
        return True
    try:
        return canonical_unit(said) == canonical_unit(want)
    except unitconv.UnitError:
        return False


class SuiteRun:
    """One suite against the real pipeline."""

    def __init__(self, suite: Suite, path: Path, model=None, persona_override: str | None = None):
        self.suite = suite
        self.path = Path(path)
        self.model = model
        self.persona_ref = persona_override or suite.persona

    def _scenario(self):
        if self.suite._scenario is not None:          # checked by load_suite
            return self.suite._scenario
        sc = self.suite.scenario
        if isinstance(sc, dict):
            data = {"name": self.suite.name, **sc}
            return scenario_from_dict(data, f"{self.path}: scenario", base=self.path.parent)
        candidate = self.path.parent / sc
        return candidate if candidate.suffix in (".yaml", ".yml") and candidate.exists() else resolve_scenario_path(sc)

    def run(self) -> list[TurnResult]:
        persona = None
        if self.persona_ref:
            checked = self.suite._persona_path if self.persona_ref == self.suite.persona else None
            persona = load_persona(checked or resolve_persona_path(self.persona_ref, relative_to=self.path.parent))
        results = []
        from assistant.history.session import HistorySession
        with LiveVehicle.from_scenario(self._scenario()) as vehicle, \
                HistorySession.open(vehicle.state, scenario=vehicle.scenario, record=False):   # its past: docs/history.md
            assistant = build_assistant(vehicle.state, self.model if self.model is not None else False, persona)
            alerts_seen: list = []
            monitor = None
            if getattr(assistant, "alert_monitor", None) is not None:
                monitor = assistant.alert_monitor(alerts_seen.append)
            sim = vehicle.simulator
            for i, step in enumerate(self.suite.steps):
                if step.set is not None:
                    sim.set(step.set)
                    vehicle.wait_for_values(step.set, 3.0)
                elif step.clear is not None:
                    sim.set({}, clear=step.clear)
                elif step.advance is not None:
                    values = vehicle.scenario.state_at(step.advance)
                    removed = [n for n in sim.values if n not in values]
                    sim.set(values, clear=removed)
                    vehicle.wait_for_values(values, 3.0)
                elif step.wait is not None:
                    time.sleep(step.wait)
                if monitor is not None:
                    monitor.poll()
                if step.say is None:
                    continue
                r = TurnResult(self.suite.name, str(self.path), i, step.say, turn=self.suite.turn_of(i),
                               line=self.suite.line_of(i))
                try:
                    answer = assistant.ask(step.say)
                except Exception as e:  # a crash is a failed turn, reported with the error
                    r.failures = [f"error: {type(e).__name__}: {e}"]
                    results.append(r)
                    continue
                r.answer = answer
                r.alerts = list(alerts_seen)
                alerts_seen.clear()
                r.failures, tools_ok = check_turn(step.expect, answer, r.alerts)
                r.tools_checked, r.tools_ok = tools_ok is not None, bool(tools_ok)
                results.append(r)
            if monitor is not None:
                monitor.stop()
        return results


# ----------------------------------------------------------------------------- reporting

@dataclass
class Summary:
    runs: list[list[TurnResult]]          # one list of turn results per repeat

    @property
    def turns(self) -> int:
        return len(self.runs[0]) if self.runs else 0

    @property
    def pass_rate(self) -> float:
        """Share of turns passed, averaged over the runs (pass^1)."""
        done = [r for run in self.runs for r in run]
        return sum(r.passed for r in done) / max(len(done), 1)

    def passed_all(self, i: int) -> bool:
        return all(run[i].passed for run in self.runs)

    @property
    def pass_k(self) -> float:
        """A turn passes only if it passed in every repeat (Pass^k)."""
        return sum(self.passed_all(i) for i in range(self.turns)) / max(self.turns, 1)

    @property
    def tool_accuracy(self) -> float | None:
        """Share of turns with a ``tools`` expectation whose tools (and arguments) matched."""
        checked = [r for run in self.runs for r in run if r.tools_checked]
        return sum(r.tools_ok for r in checked) / len(checked) if checked else None

    def latencies(self) -> list[float]:
        return [r.latency_ms for run in self.runs for r in run if r.latency_ms is not None]

    def percentile(self, p: float) -> float | None:
        lat = sorted(self.latencies())
        if not lat:
            return None
        return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))]

    def text(self) -> str:
        k = len(self.runs)
        done = [r for run in self.runs for r in run]
        line = f"turns: {self.turns}  pass rate: {self.pass_rate:.1%} ({sum(r.passed for r in done)}/{len(done)}"
        line += f" over {k} runs)" if k > 1 else ")"
        if k > 1:
            line += f"  Pass^{k}: {self.pass_k:.1%} ({sum(self.passed_all(i) for i in range(self.turns))}/{self.turns})"
        lines = [line]
        checked = [r for r in done if r.tools_checked]
        lines.append(f"tool-selection accuracy: {self.tool_accuracy:.1%} ({sum(r.tools_ok for r in checked)}/"
                     f"{len(checked)} turns that expect tools{f', over {k} runs' if k > 1 else ''})" if checked
                     else "tool-selection accuracy: n/a (no turn expects tools)")
        if self.latencies():
            lines.append(f"latency per turn: p50 {self.percentile(50):.0f} ms, p95 {self.percentile(95):.0f} ms, "
                         f"max {max(self.latencies()):.0f} ms")
        fallback = [r.answer.fallback for r in done if r.answer]
        if fallback:
            lines.append(f"answers in the model's wording: {1 - sum(fallback) / len(fallback):.1%} "
                         f"(rest: deterministic rendering)")
        return "\n".join(lines)


# Characters XML 1.0 cannot carry at all (a model can emit them): dropped from the report.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _x(text: object) -> str:
    return _XML_BAD.sub("\ufffd", str(text))


def write_junit(summary: Summary, out: Path) -> None:
    """One <testcase> per turn (name ``turn N (step M): question``, with file and line); a turn
    fails if it failed in any run, its <failure> message lists the expectations that failed."""
    failed_turns = sum(not summary.passed_all(i) for i in range(summary.turns))
    total_s = sum(r.latency_ms or 0 for run in summary.runs for r in run) / 1000
    root = ET.Element("testsuites", name="dialogue suites", tests=str(summary.turns), failures=str(failed_turns),
                      errors="0", time=f"{total_s:.3f}")
    by_suite: dict[tuple[str, str], list[int]] = {}
    for i, r in enumerate(summary.runs[0] if summary.runs else []):
        by_suite.setdefault((r.file, r.suite), []).append(i)
    for (file, name), idx in by_suite.items():
        failed = [i for i in idx if not summary.passed_all(i)]
        time_s = sum((summary.runs[0][i].latency_ms or 0) for i in idx) / 1000
        ts = ET.SubElement(root, "testsuite", name=_x(name), file=_x(file), tests=str(len(idx)),
                           failures=str(len(failed)), errors="0", time=f"{time_s:.3f}")
        for i in idx:
            r = summary.runs[0][i]
            tc = ET.SubElement(ts, "testcase", classname=_x(Path(file).stem), name=_x(r.name), file=_x(file),
                               time=f"{(r.latency_ms or 0) / 1000:.3f}")
            if r.line:
                tc.set("line", str(r.line))
            fails = list(dict.fromkeys(f for run in summary.runs for f in run[i].failures))
            if fails:
                runs_failed = sum(not run[i].passed for run in summary.runs)
                f = ET.SubElement(tc, "failure", message=_x("; ".join(fails)), type="expectation")
                answers = list(dict.fromkeys(run[i].answer.text for run in summary.runs if run[i].answer))
                f.text = _x(f"{r.where}: turn {r.turn}: failed in {runs_failed} of {len(summary.runs)} run(s)\n"
                            + "\n".join(fails) + "".join(f"\nanswer: {a}" for a in answers))
            if r.answer is not None:
                ET.SubElement(tc, "system-out").text = _x(r.answer.text)
    ET.indent(root)
    Path(out).write_text(ET.tostring(root, encoding="unicode", xml_declaration=True), encoding="utf-8")


# ----------------------------------------------------------------------------- parallel runs (--jobs N)
#
# Suites are the unit of work: each (repeat, suite) pair is one job for a pool of worker
# processes (spawn context: a fresh interpreter, no inherited threads or llama.cpp state). A
# worker loads its own model once, on its first job, and keeps it for the rest; it re-reads the
# suite file itself (the parent has already checked every file, so a broken one is reported
# before anything runs, as in a serial run). Results come back in submission order (by repeat,
# then by the order of the suite files, which is sorted by path), so the summary, Pass^k and the
# JUnit XML are built from the same lists a serial run builds.

_worker_spec: tuple | None = None       # (model, no_model, n_threads) in a worker process
_worker_model = None


def worker_threads(jobs: int, cores: int | None = None) -> int:
    """llama.cpp threads per worker: the cores this process may use, shared out among ``jobs``."""
    if cores is None:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
    return max(1, cores // max(jobs, 1))


def _init_worker(model, no_model: bool, n_threads: int | None, log_level: int = 30, log_format: str | None = None) -> None:
    global _worker_spec
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # Ctrl-C is the parent's: it ends the workers
    import logging
    logging.basicConfig(level=log_level, format=log_format or logging.BASIC_FORMAT)   # warnings as the parent words them
    _worker_spec = (model, no_model, n_threads)


def _worker_llm():
    global _worker_model
    model, no_model, n_threads = _worker_spec or (None, False, None)
    if no_model:
        return None
    if _worker_model is None:
        from assistant.assembly import load_model
        from assistant.llm.model import ModelConfig
        _worker_model = load_model(model, ModelConfig(n_threads=n_threads) if n_threads else None)
        import atexit
        atexit.register(_worker_model.cpp.close)     # freed before the interpreter tears down
    return _worker_model


def _run_suite_job(path: str, persona: str | None) -> list[TurnResult]:
    from assistant.dialogue.suite import load_suite
    turns = SuiteRun(load_suite(Path(path)), Path(path), _worker_llm(), persona).run()
    for t in turns:                  # the pipeline's event trace is not reported; it need not travel
        if t.answer is not None:
            t.answer.events = []
    return turns


def run_parallel(files: list[Path], *, jobs: int, repeat: int = 1, model=None, no_model: bool = False,
                 persona: str | None = None, n_threads: int | None = None,
                 on_suite=None) -> list[list[TurnResult]]:
    """Run every suite ``repeat`` times in ``jobs`` worker processes; one list of turn results
    per repeat, in the order a serial run gives. ``on_suite(k, path, turns)`` is called for
    each suite in that order as soon as it (and every one before it) is done. An error in a
    job (a model that does not load, a crash outside a turn) is raised here, as a serial run
    raises it; Ctrl-C (KeyboardInterrupt) ends the workers and is raised again."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    work = [(k, f) for k in range(repeat) for f in files]
    runs: list[list[TurnResult]] = [[] for _ in range(repeat)]
    if not work:
        return runs
    pool = ProcessPoolExecutor(max_workers=max(1, min(jobs, len(work))),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_worker, initargs=(model, no_model, n_threads, *_log_setup()))
    clean = False
    try:
        futures = [pool.submit(_run_suite_job, str(f), persona) for _, f in work]
        for (k, f), fut in zip(work, futures):
            turns = fut.result()
            runs[k] += turns
            if on_suite is not None:
                on_suite(k, f, turns)
        clean = True
    finally:
        if not clean:               # an error or Ctrl-C: drop what is queued, stop what runs
            _end_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
    return runs


def _log_setup() -> tuple[int, str | None]:
    import logging
    root = logging.getLogger()
    fmt = next((h.formatter._fmt for h in root.handlers if h.formatter is not None), None)
    return root.getEffectiveLevel(), fmt


def _end_workers(pool) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(5)
        if p.is_alive():
            p.kill()
            p.join(1)
