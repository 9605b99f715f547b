#!/usr/bin/env python
"""Routing accuracy: how often a driver's question reaches the right tool(s).

Loads every ``tests/intents/*.yaml`` (what drivers say -> the tool calls expected), routes each
sentence and compares the result with the expectation.

    .venv/bin/python bench/routing_accuracy.py                # deterministic matcher (router, no model)
    .venv/bin/python bench/routing_accuracy.py --model        # router with the model as fallback
    .venv/bin/python bench/routing_accuracy.py --model Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf   # another GGUF
    .venv/bin/python bench/routing_accuracy.py --model-only   # the model alone picks (same [M])
    .venv/bin/python bench/routing_accuracy.py --json         # the same figures as JSON
    .venv/bin/python bench/routing_accuracy.py --min-accuracy 0.95   # exit 1 below 95 %

The model router is ``Assistant(VehicleState({}), LocalModel()).dialect.route`` (the question -> tool
step; for the default 135M model the "routed" dialect: one tool name picked under a GBNF grammar),
measured whatever ``llm.route_unclear`` says (the pipeline uses it for unclear questions only with
native tool-call formats unless set to ``always``). ``--model-only`` compares tool names
only (the grammar picks no arguments) and skips multi-tool items.

A sentence is correct when the set of tool names routed equals the expected set and every
argument the file gives matches (``destination_km`` within 1 km; ``null`` means "must be
absent"; arguments the router leaves out take the tool schema's default, e.g. wheel=all).
``also_accept`` lists other tool sets that answer the question just as well (tools whose
results overlap, e.g. the service status also reports the oil level).

File format (``tests/intents/<topic>.yaml``)::

    tests:
      - sentences: ["How far can I go?", "range?"]
        tools: [get_range]
      - sentences: ["can I make it 120 km?"]
        tools: [{name: get_range, arguments: {destination_km: 120}}]
      - sentences: ["what's the oil level"]
        tools: [{name: read_signal, arguments: {name: Vehicle.Powertrain.CombustionEngine.EngineOil.Level}}]
        also_accept: [[get_service_status]]
      - sentences: ["tell me a joke"]
        tools: []
      - after: ["what's the coolant temperature?"]     # a follow-up: earlier turns of the same chat
        sentences: ["and in fahrenheit?"]
        tools: [{name: read_signal, arguments: {name: Vehicle.Powertrain.CombustionEngine.EngineCoolant.Temperature}}]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator  # noqa: E402

from assistant.state.signals import CATALOG  # noqa: E402
from assistant.tools.vehicle import TOOLS  # noqa: E402

INTENTS_DIR = ROOT / "tests" / "intents"
DISTANCE_TOLERANCE_KM = 1.0


# ----------------------------------------------------------------------------- file schema

class IntentFileError(ValueError):
    """A malformed intents file; the message names the file and the item."""


class ExpectedCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        if v not in TOOLS:
            raise ValueError(f"unknown tool {v!r} (known: {', '.join(TOOLS)})")
        return v

    @model_validator(mode="after")
    def _arguments_fit_the_tool(self) -> "ExpectedCall":
        schema = TOOLS[self.name].args
        unknown = set(self.arguments) - set(schema.model_fields)
        if unknown:
            raise ValueError(f"{self.name} has no argument(s) {sorted(unknown)} "
                             f"(it takes: {sorted(schema.model_fields) or 'none'})")
        schema.model_validate({k: v for k, v in self.arguments.items() if v is not None})
        if self.name == "read_signal" and "name" in self.arguments and self.arguments["name"] not in CATALOG:
            raise ValueError(f"read_signal name {self.arguments['name']!r} is not a known signal")
        return self


def _as_call(v: Any) -> Any:
    return {"name": v} if isinstance(v, str) else v


class IntentItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sentences: list[str] = Field(min_length=1)
    tools: list[ExpectedCall]
    also_accept: list[list[ExpectedCall]] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)   # earlier turns of the same conversation

    @field_validator("after", mode="before")
    @classmethod
    def _after_string(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("sentences")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        for s in v:
            if not s.strip():
                raise ValueError("empty sentence")
        return v

    @field_validator("tools", mode="before")
    @classmethod
    def _tools_strings(cls, v: Any) -> Any:
        return [_as_call(t) for t in v] if isinstance(v, list) else v

    @field_validator("also_accept", mode="before")
    @classmethod
    def _alts_strings(cls, v: Any) -> Any:
        if isinstance(v, list):
            return [[_as_call(t) for t in alt] if isinstance(alt, list) else alt for alt in v]
        return v


class IntentFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tests: list[IntentItem] = Field(min_length=1)


@dataclass
class Case:
    file: str
    sentence: str
    expected: list[ExpectedCall]
    also_accept: list[list[ExpectedCall]] = field(default_factory=list)
    after: list[str] = field(default_factory=list)


def _describe_error(path: Path, raw: Any, err: dict) -> str:
    loc = err.get("loc", ())
    where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
    item = ""
    if len(loc) >= 2 and loc[0] == "tests" and isinstance(loc[1], int):
        item = f"item {loc[1] + 1}"
        try:
            first = raw["tests"][loc[1]]["sentences"][0]
            item += f" ({first!r})"
        except (KeyError, IndexError, TypeError):
            pass
        item += ": "
    return f"{path}: {item}{where or '<top>'}: {err.get('msg', '')}"


def load_file(path: Path) -> list[Case]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise IntentFileError(f"{path}: not valid YAML: {e}") from None
    try:
        parsed = IntentFile.model_validate(raw)
    except ValidationError as e:
        lines = [_describe_error(path, raw, err) for err in e.errors()]
        raise IntentFileError("\n".join(lines)) from None
    return [Case(path.name, s, item.tools, item.also_accept, item.after)
            for item in parsed.tests for s in item.sentences]


def load_intents(directory: Path = INTENTS_DIR) -> list[Case]:
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise IntentFileError(f"{directory}: no *.yaml intents files")
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for f in files:
        for c in load_file(f):
            key = " ".join(" / ".join([*c.after, c.sentence]).lower().split())
            if key in seen:
                raise IntentFileError(f"{f}: sentence {c.sentence!r} is also in {seen[key]}")
            seen[key] = f.name
            cases.append(c)
    return cases


# ----------------------------------------------------------------------------- scoring

def _arg_matches(tool: str, key: str, want: Any, got_args: dict) -> bool:
    field_info = TOOLS[tool].args.model_fields.get(key)
    default = None if field_info is None or field_info.is_required() else field_info.default
    got = got_args.get(key, default)
    if want is None:
        return got is None
    if key == "destination_km":
        try:
            return got is not None and abs(float(got) - float(want)) <= DISTANCE_TOLERANCE_KM
        except (TypeError, ValueError):
            return False
    if key == "shape" and isinstance(want, list) and isinstance(got, list):
        return sorted(got) == sorted(want)       # the parts of a symbol, in any order
    return got == want


def calls_match(expected: list[ExpectedCall], got: list[tuple[str, dict]]) -> bool:
    if {e.name for e in expected} != {name for name, _ in got}:
        return False
    for e in expected:
        if not e.arguments:
            continue
        if not any(name == e.name and all(_arg_matches(name, k, v, args or {}) for k, v in e.arguments.items())
                   for name, args in got):
            return False
    return True


def _fmt_calls(calls: list[ExpectedCall] | list[tuple[str, dict]]) -> str:
    out = []
    for c in calls:
        name, args = (c.name, c.arguments) if isinstance(c, ExpectedCall) else c
        args = {k: v for k, v in (args or {}).items() if v is not None or isinstance(c, ExpectedCall)}
        out.append(f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})" if args else name)
    return "[" + ", ".join(out) + "]"


@dataclass
class Outcome:
    case: Case
    got: list[tuple[str, dict]]
    source: str
    correct: bool
    via_alternative: bool = False
    certain: bool = True


def score(case: Case, got: list[tuple[str, dict]], source: str) -> Outcome:
    if calls_match(case.expected, got):
        return Outcome(case, got, source, True)
    if any(calls_match(alt, got) for alt in case.also_accept):
        return Outcome(case, got, source, True, via_alternative=True)
    return Outcome(case, got, source, False)


def run_router(cases: list[Case], model_router: Callable[[str], str | None] | None = None) -> list[Outcome]:
    from assistant.intent.router import Context, route
    outcomes = []
    for c in cases:
        context = Context()

        def shown(q: str, context=context):       # the pipeline shows a capable model the previous turn
            previous = context.previous()
            return model_router(q, previous=previous) if previous else model_router(q)
        mr = shown if model_router is not None else None
        for earlier in c.after:                   # a follow-up: the conversation so far
            context.remember(route(earlier, context, mr), earlier)
        r = route(c.sentence, context, mr)
        o = score(c, [(call.name, dict(call.arguments or {})) for call in r.calls], r.source)
        o.certain = r.certain and r.source in ("matcher", "followup")
        outcomes.append(o)
    return outcomes


def run_policy(cases: list[Case], model_router: Callable[[str], Any]) -> dict:
    """Which path is right, per class of uncertainty: for every sentence the matcher routes only
    by a guess (or not at all), score the matcher's guess and the model's route side by side,
    grouped by the matcher's reason. What the hybrid policy is decided from."""
    from assistant.intent import matcher
    from assistant.intent.router import Context, route
    table: dict[str, dict[str, int]] = {}
    for c in cases:
        if c.after:
            continue                               # follow-ups are settled by the previous turn
        r = route(c.sentence, Context(), None)
        if r.certain and r.source in ("matcher", "followup", "off_topic"):
            continue
        reason = (r.reason or matcher.NO_TOPIC).split(";")[0].split("(")[0].strip()
        guess = score(c, [(k.name, dict(k.arguments)) for k in r.calls], r.source).correct
        got, _ = _names(model_router(c.sentence))
        model_ok = score(c, got, "model").correct
        row = table.setdefault(reason, {"n": 0, "matcher": 0, "model": 0})
        row["n"] += 1
        row["matcher"] += guess
        row["model"] += model_ok
    return table


def _names(result: Any) -> tuple[list[tuple[str, dict]], str]:
    """A model router's answer as (calls, source): a tool name string (older ``_model_route``) or a list
    of calls / [] for 'none' / None for 'nothing usable' (``dialect.route``)."""
    if result is None or result == "":
        return [], "model(nothing usable)"
    if isinstance(result, str):
        name = result.strip()
        return ([] if name == "none" else [(name, {})]), "model"
    return [(c.name, dict(c.arguments or {})) for c in result], "model"


def run_model_only(cases: list[Case], model_route: Callable[[str], Any]) -> list[Outcome]:
    """The model alone: one tool name (or none) per sentence, names only; multi-tool items skipped."""
    outcomes = []
    for c in cases:
        if len(c.expected) > 1:
            continue
        want = {c.expected[0].name} if c.expected else set()
        alts = [{a[0].name} if a else set() for a in c.also_accept if len(a) <= 1]
        got, source = _names(model_route(c.sentence))
        names = {n for n, _ in got}
        ok = names == want
        alt = not ok and names in alts
        outcomes.append(Outcome(c, got, source, ok or alt, via_alternative=alt))
    return outcomes


def summarise(outcomes: list[Outcome], mode: str, seconds: float) -> dict:
    files: dict[str, dict] = {}
    for o in outcomes:
        f = files.setdefault(o.case.file, {"total": 0, "correct": 0})
        f["total"] += 1
        f["correct"] += o.correct
    for f in files.values():
        f["accuracy"] = round(f["correct"] / f["total"], 4) if f["total"] else None
    total = len(outcomes)
    correct = sum(o.correct for o in outcomes)
    return {
        "mode": mode,
        "total": total,
        "correct": correct,
        "accuracy": round(correct / total, 4) if total else None,
        "accepted_via_alternative": sum(o.via_alternative for o in outcomes),
        "alternatives": [{"file": o.case.file, "sentence": o.case.sentence, "expected": _fmt_calls(o.case.expected),
                          "got": _fmt_calls(o.got), "source": o.source} for o in outcomes if o.via_alternative],
        "sources": dict(Counter(o.source for o in outcomes)),
        # routed on the fast path with certainty (matcher or follow-up rules, no model needed)
        "certain": sum(o.certain and o.source in ("matcher", "followup") for o in outcomes),
        "certain_correct": sum(o.certain and o.correct and o.source in ("matcher", "followup") for o in outcomes),
        "seconds": round(seconds, 2),
        "files": dict(sorted(files.items())),
        "misses": [{"file": o.case.file, "sentence": o.case.sentence, "expected": _fmt_calls(o.case.expected),
                    "got": _fmt_calls(o.got), "source": o.source} for o in outcomes if not o.correct],
    }


def print_report(s: dict) -> None:
    acc = s["accuracy"]
    print(f"routing accuracy ({s['mode']}): {s['correct']}/{s['total']} = "
          f"{acc * 100:.1f} %" if acc is not None else "no sentences")
    if s["accepted_via_alternative"]:
        print(f"  (of which {s['accepted_via_alternative']} via an also_accept alternative: "
              + "; ".join(f"{a['sentence']!r} -> {a['got']}" for a in s["alternatives"]) + ")")
    print(f"  route sources: {', '.join(f'{k} {v}' for k, v in sorted(s['sources'].items()))};"
          f" {s['seconds']:.2f} s")
    if s["certain"]:
        print(f"  certain fast-path routes: {s['certain']} ({s['certain_correct']} of them correct)")
    if s.get("model_calls"):
        print(f"  model asked {s['model_calls']} times: p50 {s['model_s_p50']:.2f} s, p90 {s['model_s_p90']:.2f} s")
    print()
    print(f"{'file':<18} {'correct':>8} {'total':>6} {'accuracy':>9}")
    for name, f in s["files"].items():
        print(f"{name:<18} {f['correct']:>8} {f['total']:>6} {f['accuracy'] * 100:>8.1f}%")
    print()
    if not s["misses"]:
        print("no misses")
        return
    print(f"misses ({len(s['misses'])}):")
    for m in s["misses"]:
        print(f"  [{m['file']}] {m['sentence']!r}\n      expected {m['expected']}  got {m['got']}  ({m['source']})")


def _build_assistant(model: str | None = None):
    from assistant.assembly import load_model
    from assistant.pipeline import Assistant
    from assistant.state.store import VehicleState
    return Assistant(VehicleState({}), load_model(model or None))


def timed(router: Callable[[str], Any], seconds: list[float]) -> Callable[[str], Any]:
    """``router`` that records how long each call took."""
    def call(q: str, **kw) -> Any:
        t = time.perf_counter()
        try:
            return router(q, **kw)
        finally:
            seconds.append(time.perf_counter() - t)
    return call


def model_router_of(assistant) -> tuple[Callable[[str], Any], str]:
    """The dialect's ``route`` (list of calls, or None), measured whether or not the pipeline's
    ``llm.route_unclear`` setting lets it route (for the routed 135M default, by default it does not)."""
    dialect = getattr(assistant, "dialect", None)
    if dialect is not None:
        return dialect.route, f"Assistant.dialect.route ({getattr(dialect, 'name', type(dialect).__name__)})"
    raise RuntimeError("the Assistant has no dialect: no model router to measure")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Routing accuracy over tests/intents/*.yaml (what drivers say -> "
                                             "expected tool calls).")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--model", nargs="?", const="", default=None, metavar="M",
                      help="route with a model after the matcher (where the router asks it: unclear or uncertain "
                           "questions); M a GGUF path or name in models/ (default: the configured/default model)")
    mode.add_argument("--policy", nargs="?", const="", default=None, metavar="M",
                      help="per class of the matcher's uncertainty: its guess vs model M's route, side by side")
    mode.add_argument("--model-only", nargs="?", const="", default=None, metavar="M",
                      help="the model alone routes; multi-tool items are skipped and only tool names are compared")
    ap.add_argument("--dir", type=Path, default=INTENTS_DIR, help=f"intents folder (default {INTENTS_DIR})")
    ap.add_argument("--json", action="store_true", help="print a JSON summary instead of the report")
    ap.add_argument("--min-accuracy", type=float, default=None, metavar="X",
                    help="exit 1 if accuracy (0..1) is below X; without it the exit status is 0")
    args = ap.parse_args(argv)

    try:
        cases = load_intents(args.dir)
    except IntentFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    t0 = time.perf_counter()
    model_s: list[float] = []
    if args.policy is not None:
        from assistant.errors import UserError
        try:
            assistant = _build_assistant(args.policy)
        except UserError as e:
            print(f"error: the model could not be loaded: {e}", file=sys.stderr)
            return 2
        router, how = model_router_of(assistant)
        table = run_policy(cases, router)
        if args.json:
            print(json.dumps(table, indent=2))
            return 0
        print(f"uncertain or unplaced routes by reason: matcher's guess vs {assistant.model.path.name}")
        print(f"{'reason':<36} {'n':>4} {'matcher':>8} {'model':>8}")
        for reason, row in sorted(table.items(), key=lambda kv: -kv[1]["n"]):
            print(f"{reason:<36} {row['n']:>4} {row['matcher']:>8} {row['model']:>8}")
        return 0
    if args.model is not None or args.model_only is not None:
        from assistant.errors import UserError
        try:
            assistant = _build_assistant(args.model if args.model is not None else args.model_only)
        except UserError as e:
            print(f"error: the model could not be loaded: {e}", file=sys.stderr)
            return 2
        router, how = model_router_of(assistant)
        how += f", {assistant.model.path.name}"
        router = timed(router, model_s)
        t0 = time.perf_counter()
        if args.model_only is not None:
            outcomes, label = run_model_only(cases, router), f"model only via {how}, single-tool items"
        else:
            outcomes, label = run_router(cases, router), f"matcher + model via {how}"
    else:
        outcomes, label = run_router(cases), "matcher (router, no model)"
    summary = summarise(outcomes, label, time.perf_counter() - t0)
    if model_s:
        ordered = sorted(model_s)
        summary["model_calls"] = len(ordered)
        summary["model_s_p50"] = round(ordered[len(ordered) // 2], 3)
        summary["model_s_p90"] = round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 3)

    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_report(summary)
    if args.min_accuracy is not None and (summary["accuracy"] or 0.0) < args.min_accuracy:
        if not args.json:
            print(f"\nFAIL accuracy {summary['accuracy']} < --min-accuracy {args.min_accuracy}")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:          # e.g. piped into head
        sys.stderr.close()
        sys.exit(0)
