#!/usr/bin/env python3
"""Assistant latency benchmark: first token, start to ready and RSS, each beside a baseline.

Every figure is printed beside a baseline measured in the same run, with the same GGUF file
and the same number of threads, so the ratio holds on any machine:

1. Naive baseline: a fresh ``llama_cpp.Llama(model_path, n_ctx=4096, n_threads=cpu_count)``.
   For each question, ``llm.reset()`` (no KV prefix survives between calls), then
   ``create_chat_completion(messages=[system, user], stream=True, ...)``:
     tools=    ``tools=[t.schema() for t in TOOLS.values()], tool_choice="auto"``;
     in-prompt the same tool schemas written as JSON into the system prompt text, which is
               what a naive integration does so that the model actually sees them.
   If the model's chat handler drops ``tools=`` (the prompt has as many tokens with and
   without it; SmolLM2's chat template never mentions tools), the in-prompt variant is the
   baseline, and the output says so. Time to first token = first streamed chunk with text.
2. Ours, warm: one ``Assistant`` per scenario over ``LiveVehicle.from_scenario(...)`` with
   one shared ``LocalModel()`` (prefix evaluated once or loaded from the disk cache); two
   warm-up questions, then a fixed list of questions ``--runs`` times, interleaved with the
   naive calls of the first run so both see the same background load (simulator and reader
   threads). ``Answer.timings_ms``: ``first_token`` (first token the model generated for the
   answer, or when the answer text is ready if no model call), ``first_output`` (first words
   to the listener), ``total``. Also: share of answers worded by the model vs the
   deterministic fallback, and the prompt tokens llama.cpp actually evaluated per model call
   (counted by wrapping ``Llama.eval`` on the instance), which shows whether the prefix is
   reused.
3. Start to ready: a child ``python -c`` process; wall time from spawning it until the
   vehicle has its signals and ``Assistant(...)`` is built (imports + vehicle + model load +
   prefix). Cold: ``ASSISTANT_CACHE_DIR`` = an empty temp dir (prefix evaluated and saved);
   warm: the same dir again (prefix loaded from disk). Baseline for the ratio: cold.
4. RSS: the ready child answers one question, then reports peak (``VmHWM``; ``ru_maxrss`` as
   well, which Linux carries over ``execve`` from the forking parent, so the children run
   before this process loads any model) and current (``VmRSS``) RSS. Baseline: a child that
   only loads the model naively with ``llama_cpp.Llama``.

Targets (issue): first token <= 0.3 s p50 warm and >= 10x faster than the naive call;
start to ready <= 2 s; RSS <= 400 MB. Exit status 1 if a target fails.

    .venv/bin/python bench/latency.py              # table + PASS/FAIL lines, about 1.5 min on 2 cores
    .venv/bin/python bench/latency.py --json       # the same figures as JSON
    .venv/bin/python bench/latency.py --capable    # the capable routing model's rows (about 4 min)
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "how far can I go?",
    "how much fuel is left?",
    "are my tyres okay?",
    "what about the front left?",              # follow-up (context)
    "when is my next service due?",
    "why is there a light on the dashboard?",
    "what's the engine temperature?",
    "can I make it 60 km to the next town?",
    "in miles please",                         # follow-up (unit change)
    "should I be worried about anything?",     # routed by the model
    "how's the oil?",                          # routed by the model
    "what's the battery voltage?",
]
WARMUP = ["how far can I drive?", "is the battery charged?"]

TARGET_FIRST_TOKEN_MS = 300.0
TARGET_SPEEDUP = 10.0
TARGET_READY_S = 2.0
TARGET_FIRST_START_S = 1.5     # the first start after the install step (prefix cache built by setup)
TARGET_RSS_MB = 400.0


# ----------------------------------------------------------------------------- helpers

def pct(values: list[float], p: float) -> float | None:
    """Percentile with linear interpolation (p in 0..100); None for no values."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def stats(values: list[float]) -> dict:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "min": min(values) if values else None, "max": max(values) if values else None}


def system_prompt(with_tools_json: bool) -> str:
    """The assistant's instructions (persona included) as a naive integration would send them."""
    from assistant.answer import prompt
    from assistant.tools.vehicle import TOOLS
    text = prompt.HEADER.format(name="Nova", tone="").rstrip()
    if with_tools_json:
        text += ("\n\nYou can call these functions. To call one, answer with a JSON object "
                 '{"name": ..., "arguments": {...}}.\n'
                 + json.dumps([t.schema() for t in TOOLS.values()]))
    return text


# ----------------------------------------------------------------------------- naive baseline

class Naive:
    def __init__(self, model_path: str, max_tokens: int):
        import llama_cpp
        from assistant.tools.vehicle import TOOLS
        t0 = time.perf_counter()
        self.llm = llama_cpp.Llama(model_path=model_path, n_ctx=4096, n_threads=os.cpu_count(), verbose=False)
        self.load_s = time.perf_counter() - t0
        self.tools = [t.schema() for t in TOOLS.values()]
        self.max_tokens = max_tokens
        self.sys_plain = system_prompt(False)
        self.sys_tools = system_prompt(True)
        self.ttft = {"tools_param": [], "tools_in_prompt": []}
        self.total = {"tools_param": [], "tools_in_prompt": []}

    def _messages(self, system: str, question: str) -> list[dict]:
        return [{"role": "system", "content": system}, {"role": "user", "content": question}]

    def prompt_tokens(self, question: str) -> dict:
        """Prompt tokens of each variant (non-streamed, max_tokens=1): shows whether tools= is used."""
        out = {}
        for key, system, kw in (("plain", self.sys_plain, {}),
                                ("tools_param", self.sys_plain, {"tools": self.tools, "tool_choice": "auto"}),
                                ("tools_in_prompt", self.sys_tools, {})):
            self.llm.reset()
            r = self.llm.create_chat_completion(messages=self._messages(system, question), max_tokens=1,
                                                temperature=0.0, **kw)
            out[key] = r["usage"]["prompt_tokens"]
        return out

    def measure(self, question: str, variants=("tools_param", "tools_in_prompt")) -> None:
        for key, system, kw in (("tools_param", self.sys_plain, {"tools": self.tools, "tool_choice": "auto"}),
                                ("tools_in_prompt", self.sys_tools, {})):
            if key not in variants:
                continue
            self.llm.reset()                     # nothing of the last call's KV is reused
            t0 = time.perf_counter()
            first = None
            for chunk in self.llm.create_chat_completion(messages=self._messages(system, question), stream=True,
                                                         max_tokens=self.max_tokens, temperature=0.0, **kw):
                delta = chunk["choices"][0].get("delta") or {}
                if first is None and (delta.get("content") or delta.get("tool_calls")):
                    first = time.perf_counter() - t0
            total = time.perf_counter() - t0
            self.ttft[key].append(1000 * (first if first is not None else total))
            self.total[key].append(1000 * total)


# ----------------------------------------------------------------------------- ours, warm

class EvalCounter:
    """Wraps ``Llama.eval`` on one instance: the prompt tokens evaluated by each model call."""

    def __init__(self, llm):
        self.llm = llm
        self.calls: list[list[int]] = []       # per eval() call: number of tokens
        self._orig = llm.eval

        def eval_(tokens, _orig=self._orig):
            self.calls.append(len(tokens))
            return _orig(tokens)

        llm.eval = eval_

    def take(self) -> list[int]:
        c, self.calls = self.calls, []
        return c


def run_ours(args, naive: Naive | None) -> dict:
    import logging
    logging.getLogger("assistant").setLevel(logging.ERROR)
    from assistant.llm.model import LocalModel
    from assistant.pipeline import Assistant
    from assistant.vehicle import LiveVehicle

    t0 = time.perf_counter()
    model = LocalModel()
    load_s = time.perf_counter() - t0
    counter = EvalCounter(model.llm)
    answers: list[dict] = []
    warmups: list[dict] = []
    prefix_info = {}
    naive_done = 0
    for sc in args.scenario:
        with LiveVehicle.from_scenario(sc, on_status=lambda s: None) as vehicle:
            t1 = time.perf_counter()
            assistant = Assistant(vehicle.state, model)
            prefix_info.setdefault("set_prefix_s", {})[sc] = time.perf_counter() - t1
            prefix_info.setdefault("source", {})[sc] = model.prefix_source
            prefix_info["prefix_tokens"] = len(model.prefix_tokens)
            counter.take()
            for q in WARMUP:
                a = assistant.ask(q)
                warmups.append({"scenario": sc, "question": q, "timings_ms": a.timings_ms})
                counter.take()
            for run in range(args.runs):
                for q in QUESTIONS:
                    if naive is not None and run == 0 and naive_done < args.naive_questions:
                        naive.measure(q)         # interleaved: same background load as ours
                        naive_done += 1
                    counter.take()
                    c0, w0 = time.process_time(), time.perf_counter()
                    a = assistant.ask(q)
                    cpu_s, wall_s = time.process_time() - c0, time.perf_counter() - w0
                    evals = counter.take()
                    # per model call: one eval() of the prompt tokens not already in the KV cache, then
                    # one 1-token eval() per generated token (a 1-token prompt remainder counts as decode)
                    answers.append({"scenario": sc, "run": run, "question": q, "route": a.route,
                                    "fallback": a.fallback, "model_called": a.model_text is not None,
                                    "safety": bool(a.safety), "text": a.text, "model_text": a.model_text,
                                    "timings_ms": dict(a.timings_ms), "cpu_s": cpu_s, "wall_s": wall_s,
                                    "prompt_evals": [n for n in evals if n > 1],
                                    "decode_evals": sum(1 for n in evals if n == 1)})
    return {"load_s": load_s, "prefix": prefix_info, "warmup": warmups, "answers": answers,
            "n_ctx": model.n_ctx(), "model": str(model.path)}


# ----------------------------------------------------------------------------- child processes

READY_CHILD = r"""
import json, os, resource, sys, time
T0 = float(sys.argv[1]); sys.path.insert(0, sys.argv[2])
import logging; logging.disable(logging.WARNING)
out = {}
from assistant.vehicle import LiveVehicle
from assistant.llm.model import LocalModel
from assistant.pipeline import Assistant
out["imports_s"] = time.time() - T0
vehicle = LiveVehicle.from_scenario(sys.argv[3], on_status=lambda s: None).start()
out["vehicle_s"] = time.time() - T0
model = LocalModel()
out["model_loaded_s"] = time.time() - T0
assistant = Assistant(vehicle.state, model)
ready = time.time()
out["ready_s"] = ready - T0
out["prefix_source"] = model.prefix_source
out["prefix_tokens"] = len(model.prefix_tokens)
out["have_signals"] = vehicle.wait_for(vehicle.scenario.signals, 0)
a = assistant.ask(sys.argv[4])
out["answered_s"] = time.time() - T0
out["answer"] = a.text
out["model_text"] = a.model_text
out["fallback"] = a.fallback
out["timings_ms"] = a.timings_ms
vehicle.stop()
"""

NAIVE_RSS_CHILD = r"""
import json, os, resource, sys, time
T0 = float(sys.argv[1])
import llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[2], n_ctx=4096, n_threads=os.cpu_count(), verbose=False)
out = {"ready_s": time.time() - T0}
"""

# Both children end by reporting their memory and printing one RESULT line.
CHILD_REPORT = r"""
def st(f):
    for line in open("/proc/self/status"):
        if line.startswith(f + ":"):
            return int(line.split()[1])
out["ru_maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["vmrss_kb"] = st("VmRSS"); out["vmhwm_kb"] = st("VmHWM")
print("RESULT " + json.dumps(out), flush=True)
"""


def run_child(code: str, argv: list[str], env: dict | None = None, timeout: float = 120) -> dict:
    t_spawn = time.time()
    p = subprocess.run([sys.executable, "-c", code + CHILD_REPORT, repr(t_spawn), *argv], capture_output=True, text=True,
                       env=env, timeout=timeout, cwd=str(ROOT))
    wall = time.time() - t_spawn
    line = next((ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"child failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    out = json.loads(line[len("RESULT "):])
    out["process_wall_s"] = wall
    return out


def run_ready(args, model_path: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="latency-cache-") as cache:
        env = dict(os.environ, ASSISTANT_CACHE_DIR=cache)
        env.pop("ASSISTANT_MODEL", None)
        argv = [str(ROOT), args.scenario[0], QUESTIONS[0]]
        cold = run_child(READY_CHILD, argv, env)
        cache_files = sorted(p.name for p in Path(cache).iterdir())
        cache_bytes = sum(p.stat().st_size for p in Path(cache).iterdir())
        warm = [run_child(READY_CHILD, argv, env) for _ in range(args.ready_runs)]
    with tempfile.TemporaryDirectory(prefix="latency-install-") as cache:
        # what ./setup.sh does (python -m assistant.install --prefix), for the persona the child uses
        # (none), into an empty cache; then the first start after it
        env = dict(os.environ, ASSISTANT_CACHE_DIR=cache)
        env.pop("ASSISTANT_MODEL", None)
        t = time.time()
        p = subprocess.run([sys.executable, "-c", "from assistant.install import build_prefixes; "
                            "build_prefixes([None])"], capture_output=True, text=True, env=env, cwd=str(ROOT),
                           timeout=600)
        if p.returncode != 0:
            raise RuntimeError(f"install step failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
        install_s = time.time() - t
        first = run_child(READY_CHILD, argv, env)
    naive = run_child(NAIVE_RSS_CHILD, [model_path])
    return {"cold": cold, "warm": warm, "cache_files": cache_files, "cache_bytes": cache_bytes,
            "install_s": install_s, "first_after_install": first, "naive_load": naive}


# ----------------------------------------------------------------------------- the capable model

CAPABLE_MATCHER_QS = ["how far can I go?", "are my tyres okay?", "what's the engine temperature?",
                      "when is my next service due?"]
# Phrasings the word tables do not place (or not with certainty): the hybrid router asks the model
# (checked with route(q, Context(), None): no topic word). Until 2026-12 the set held "um is the
# passenger side one holding air", "the car won't start, is it the battery thing" and "quanta benzina
# c'è nel serbatoio", which the tables now place with certainty (matcher-routed), and a long question,
# which the hybrid policy keeps with the matcher since its re-measurement (router.ASK_MODEL_FOR).
CAPABLE_MODEL_QS = ["so like do i need to stop somewhere soon or what", "is it ok to keep going like this",
                    "uh how's she holding up", "anything I should know before the long drive tomorrow",
                    "is she good for the trip to grandma's house tonight or should we sort something first"]

CAPABLE_READY_CHILD = r"""
import json, os, resource, sys, time
T0 = float(sys.argv[1]); sys.path.insert(0, sys.argv[2])
import logging; logging.disable(logging.WARNING)
out = {}
from assistant.vehicle import LiveVehicle
from assistant.llm.model import LocalModel, ModelConfig
from assistant.pipeline import Assistant
vehicle = LiveVehicle.from_scenario(sys.argv[3], on_status=lambda s: None).start()
model = LocalModel(ModelConfig(path=sys.argv[5]))
out["model_loaded_s"] = time.time() - T0
assistant = Assistant(vehicle.state, model)
out["ready_s"] = time.time() - T0
out["prefix_source"] = model.prefix_source
out["prefix_tokens"] = len(model.prefix_tokens)
a = assistant.ask(sys.argv[4])
out["answered_s"] = time.time() - T0
out["route"] = a.route
vehicle.stop()
"""


def capable_main(args) -> int:
    """Rows for the capable routing model: matcher-routed vs model-routed answers (first words
    to the listener), start to ready with the prefix from the disk cache, peak RSS; baselines
    from the same run (a naive Llama load; a naive tools= chat completion, KV reset)."""
    import logging
    logging.getLogger("assistant").setLevel(logging.ERROR)
    from assistant.assembly import model_config
    from assistant.llm.model import LocalModel
    from assistant.pipeline import Assistant
    from assistant.vehicle import LiveVehicle
    cfg = model_config(args.capable)
    path = str(cfg.resolved_path())
    if not Path(path).is_file():
        print(f"error: {path} not found: python -m assistant.install --capable", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    sc = (args.scenario or ["flat_tyre"])[0]
    ready = run_child(CAPABLE_READY_CHILD, [str(ROOT), sc, CAPABLE_MODEL_QS[0], path], dict(os.environ), timeout=600)
    naive_load = run_child(NAIVE_RSS_CHILD, [path])
    model = LocalModel(cfg)
    rows = {"matcher": [], "model": [], "other": []}
    routes = []
    with LiveVehicle.from_scenario(sc, on_status=lambda s: None) as vehicle:
        a = Assistant(vehicle.state, model)
        a.ask("how much fuel is left?")                        # warm-up
        for _ in range(args.runs):
            for q in CAPABLE_MATCHER_QS + CAPABLE_MODEL_QS:
                a.context = type(a.context)()                  # each question on its own
                ans = a.ask(q)
                routes.append((q, ans.route))
                kind = "model" if ans.route in ("model", "off_topic") and q in CAPABLE_MODEL_QS else \
                    "matcher" if ans.route == "matcher" else "other"
                rows[kind].append(ans.timings_ms["first_output"])
    del model
    gc.collect()
    naive = Naive(path, args.naive_max_tokens)
    for q in CAPABLE_MODEL_QS:
        naive.measure(q, variants=("tools_param",))
    naive_p50 = pct(naive.ttft["tools_param"], 50)
    load_after = os.getloadavg()
    m50, o50 = pct(rows["matcher"], 50), pct(rows["model"], 50)
    print(f"# capable model: {Path(path).name}, {os.cpu_count()} CPUs, scenario {sc}, {args.runs} run(s)")
    print(f"{'measure':58s} {'ours':>10s} {'baseline':>10s} {'ratio':>7s}  target")
    def row(label, ours, base, target):
        r = f"{base / ours:.1f}x" if ours and base else "-"
        print(f"{label:58s} {fmt_ms(ours):>10s} {fmt_ms(base):>10s} {r:>7s}  {target}")
    row(f"first output p50, matcher-routed ({len(rows['matcher'])})", m50, naive_p50,
        f"<= {TARGET_FIRST_TOKEN_MS:.0f} ms (baseline: naive tools= TTFT)")
    row(f"first output p50, model-routed ({len(rows['model'])})", o50, naive_p50,
        "<= 1500 ms (baseline: naive tools= TTFT, KV reset)")
    row("first output p90, model-routed", pct(rows["model"], 90), pct(naive.ttft["tools_param"], 90), "(info)")
    row("start to ready, prefix from disk", 1000 * ready["ready_s"], 1000 * naive_load["ready_s"],
        f"(info; baseline: naive Llama load, no prefix; prefix {ready['prefix_source']}, "
        f"{ready['prefix_tokens']} tokens)")
    peak, nrss = max(ready["vmhwm_kb"], ready["ru_maxrss_kb"]) / 1024, naive_load["vmhwm_kb"] / 1024
    print(f"{'peak RSS after one model-routed answer':58s} {peak:>7.0f} MB {nrss:>7.0f} MB "
          f"{nrss / peak:>6.2f}x  (info; baseline: naive Llama load)")
    if rows["other"]:
        print(f"not routed as expected: {[(q, r) for q, r in routes if q in CAPABLE_MODEL_QS and r not in ('model', 'off_topic')] + [(q, r) for q, r in routes if q in CAPABLE_MATCHER_QS and r != 'matcher']}")
    busy = max(load_before[0], load_after[0]) > 0.75 * (os.cpu_count() or 1)
    print(f"load average before/after {load_before[0]:.2f}/{load_after[0]:.2f}"
          + (" -- other processes were competing for the CPUs, timings are inflated" if busy else ""))
    ok = m50 is not None and m50 <= TARGET_FIRST_TOKEN_MS and o50 is not None and o50 <= 1500
    print("PASS" if ok else "FAIL", f"matcher-routed first output p50 <= {TARGET_FIRST_TOKEN_MS:.0f} ms and "
          f"model-routed <= 1500 ms: {fmt_ms(m50)} / {fmt_ms(o50)}")
    return 0 if ok else 1


# ----------------------------------------------------------------------------- report

def fmt_ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.0f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--runs", type=int, default=2, help=f"passes over the {len(QUESTIONS)} questions (ours)")
    ap.add_argument("--scenario", action="append", help="scenario(s) for ours, repeatable "
                                                        "(default: low_fuel and flat_tyre)")
    ap.add_argument("--naive-questions", type=int, default=len(QUESTIONS),
                    help="questions measured with the naive baseline (each variant once per question)")
    ap.add_argument("--naive-max-tokens", type=int, default=16, help="max_tokens of a naive call")
    ap.add_argument("--ready-runs", type=int, default=3, help="warm start-to-ready children (median reported)")
    ap.add_argument("--skip-ready", action="store_true", help="skip the start-to-ready and RSS children")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the table")
    ap.add_argument("--capable", nargs="?", const="Qwen2.5-Coder-1.5B-Instruct-Q4_K_M.gguf", default=None,
                    metavar="M", help="instead: the capable routing model's rows (matcher- vs model-routed first "
                                      "output, start to ready, peak RSS); M a GGUF path or name in models/")
    ap.add_argument("--verbose", "-v", action="store_true", help="also print every answer with its timings")
    args = ap.parse_args(argv)
    if args.capable is not None:
        return capable_main(args)
    args.scenario = args.scenario or ["low_fuel", "flat_tyre"]
    if args.runs < 1:
        ap.error("--runs must be >= 1")

    t_start = time.perf_counter()
    from assistant.llm.model import ModelConfig
    model_path = str(ModelConfig().resolved_path())

    load_before = os.getloadavg()
    # 3 + 4 first: the children then share the machine with nothing of ours, and this process
    # holds no model yet (Linux keeps ru_maxrss across execve, so a child would inherit it).
    ready = None if args.skip_ready else run_ready(args, model_path)

    # 1 + 2: naive and ours in one process, interleaved.
    naive = Naive(model_path, args.naive_max_tokens) if args.naive_questions > 0 else None
    ptoks = naive.prompt_tokens(QUESTIONS[0]) if naive else {}
    tools_ignored = bool(ptoks) and ptoks["tools_param"] == ptoks["plain"]
    ours = run_ours(args, naive)
    naive_info = None
    if naive:
        naive_info = {"load_s": naive.load_s, "prompt_tokens": ptoks, "tools_param_ignored": tools_ignored,
                      "ttft_ms": {k: stats(v) for k, v in naive.ttft.items()},
                      "total_ms": {k: stats(v) for k, v in naive.total.items()},
                      "max_tokens": naive.max_tokens}
        del naive
        gc.collect()

    ans = ours["answers"]
    ft = [a["timings_ms"]["first_token"] for a in ans]
    fo = [a["timings_ms"]["first_output"] for a in ans]
    tot = [a["timings_ms"]["total"] for a in ans]
    ft_model = [a["timings_ms"]["first_token"] for a in ans if a["model_called"]]
    fo_model = [a["timings_ms"]["first_output"] for a in ans if a["model_called"]]
    model_called = sum(a["model_called"] for a in ans)
    worded = sum(1 for a in ans if not a["fallback"])
    prompt_evals = [n for a in ans for n in a["prompt_evals"]]
    max_eval = max(prompt_evals) if prompt_evals else 0

    wall = time.perf_counter() - t_start
    load_after = os.getloadavg()

    # --- figures vs baselines
    base_key = "tools_in_prompt" if (naive_info and tools_ignored) else "tools_param"
    naive_p50 = naive_info["ttft_ms"][base_key]["p50"] if naive_info else None
    ours_p50 = pct(ft, 50)
    rows = []     # (label, ours, baseline, ratio, target)

    def ratio(base, val):
        return None if (base is None or val is None or val <= 0) else base / val

    rows.append(("first token p50, warm (all answers)", fmt_ms(ours_p50), fmt_ms(naive_p50),
                 ratio(naive_p50, ours_p50), f"<= {TARGET_FIRST_TOKEN_MS:.0f} ms, >= {TARGET_SPEEDUP:.0f}x"))
    rows.append(("first token p95, warm (all answers)", fmt_ms(pct(ft, 95)),
                 fmt_ms(naive_info["ttft_ms"][base_key]["p95"] if naive_info else None),
                 ratio(naive_info["ttft_ms"][base_key]["p95"] if naive_info else None, pct(ft, 95)), ""))
    rows.append((f"first token p50, model-phrased only ({len(ft_model)})", fmt_ms(pct(ft_model, 50)),
                 fmt_ms(naive_p50), ratio(naive_p50, pct(ft_model, 50)), "(info)"))
    rows.append(("first output p50 (words to the listener)", fmt_ms(pct(fo, 50)), fmt_ms(naive_p50),
                 ratio(naive_p50, pct(fo, 50)), "(info)"))
    rows.append(("first output p95", fmt_ms(pct(fo, 95)),
                 fmt_ms(naive_info["ttft_ms"][base_key]["p95"] if naive_info else None),
                 ratio(naive_info["ttft_ms"][base_key]["p95"] if naive_info else None, pct(fo, 95)), "(info)"))
    rows.append(("total per answer p50 / naive total p50", fmt_ms(pct(tot, 50)),
                 fmt_ms(naive_info["total_ms"][base_key]["p50"] if naive_info else None),
                 ratio(naive_info["total_ms"][base_key]["p50"] if naive_info else None, pct(tot, 50)),
                 f"(info; naive max_tokens={args.naive_max_tokens})"))
    if ready:
        warm_ready = statistics.median(w["ready_s"] for w in ready["warm"])
        cold_ready = ready["cold"]["ready_s"]
        rows.append(("start to ready, warm cache (median)", f"{warm_ready:.2f} s", f"{cold_ready:.2f} s",
                     ratio(cold_ready, warm_ready), f"<= {TARGET_READY_S:.0f} s (baseline: cold cache)"))
        first_ready = ready["first_after_install"]["ready_s"]
        rows.append(("start to ready, first start after the install step", f"{first_ready:.2f} s",
                     f"{cold_ready:.2f} s", ratio(cold_ready, first_ready),
                     f"<= {TARGET_FIRST_START_S} s (baseline: no install step; install step "
                     f"{ready['install_s']:.1f} s)"))
        kids = ready["warm"] + [ready["cold"]]
        rss_peak = max(w["vmhwm_kb"] for w in kids) / 1024
        rss_maxrss = max(w["ru_maxrss_kb"] for w in kids) / 1024
        rss_now = max(w["vmrss_kb"] for w in kids) / 1024
        nrss = ready["naive_load"]["vmhwm_kb"] / 1024
        nrss_maxrss = ready["naive_load"]["ru_maxrss_kb"] / 1024
        nrss_now = ready["naive_load"]["vmrss_kb"] / 1024
        rows.append(("peak RSS (VmHWM), after one answer", f"{rss_peak:.0f} MB", f"{nrss:.0f} MB",
                     None if rss_peak <= 0 else nrss / rss_peak,
                     f"<= {TARGET_RSS_MB:.0f} MB (baseline: naive Llama load)"))
        rows.append(("peak RSS (ru_maxrss), after one answer", f"{rss_maxrss:.0f} MB", f"{nrss_maxrss:.0f} MB",
                     None if rss_maxrss <= 0 else nrss_maxrss / rss_maxrss, "(info)"))
        rows.append(("current RSS (VmRSS), after one answer", f"{rss_now:.0f} MB", f"{nrss_now:.0f} MB",
                     None if rss_now <= 0 else nrss_now / rss_now, "(info)"))

    checks = []   # (PASS|FAIL|INFO, text)

    def check(ok, text):
        checks.append(("PASS" if ok else "FAIL", text))

    check(ours_p50 is not None and ours_p50 <= TARGET_FIRST_TOKEN_MS,
          f"first token p50 warm <= {TARGET_FIRST_TOKEN_MS:.0f} ms: {fmt_ms(ours_p50)}")
    r = ratio(naive_p50, ours_p50)
    check(r is not None and r >= TARGET_SPEEDUP,
          f"first token >= {TARGET_SPEEDUP:.0f}x faster than naive ({base_key}): "
          f"{'-' if r is None else f'{r:.1f}x'} ({fmt_ms(naive_p50)} vs {fmt_ms(ours_p50)})")
    if ready:
        check(warm_ready <= TARGET_READY_S, f"start to ready (warm disk cache) <= {TARGET_READY_S:.0f} s: "
                                           f"{warm_ready:.2f} s (cold {cold_ready:.2f} s)")
        fa = ready["first_after_install"]
        check(first_ready <= TARGET_FIRST_START_S and fa["prefix_source"] == "disk",
              f"first start after the install step <= {TARGET_FIRST_START_S} s: {first_ready:.2f} s "
              f"(prefix {fa['prefix_source'] or repr('')}; install step {ready['install_s']:.1f} s)")
        check(all(w["prefix_source"] == "disk" for w in ready["warm"]),
              "warm start loads the prefix from disk: "
              + ", ".join(w["prefix_source"] or "''" for w in ready["warm"])
              + f" (cold: {ready['cold']['prefix_source'] or repr('')})")
        check(max(rss_peak, rss_maxrss) <= TARGET_RSS_MB,
              f"peak RSS <= {TARGET_RSS_MB:.0f} MB: {max(rss_peak, rss_maxrss):.0f} MB")
    r2 = ratio(naive_p50, pct(fo, 50))
    checks.append(("INFO", f"first output (words to the listener) vs naive first token: "
                           f"{'-' if r2 is None else f'{r2:.1f}x'} ({fmt_ms(pct(fo, 50))} p50)"))
    checks.append(("INFO", f"answers worded by the model: {worded}/{len(ans)} "
                           f"({100 * worded / max(len(ans), 1):.0f} %); model called for {model_called}; "
                           f"deterministic fallback: {len(ans) - worded}"))
    checks.append(("INFO", f"prompt tokens llama.cpp evaluated per model call: max {max_eval}, "
                           f"p50 {pct(prompt_evals, 50) or 0:.0f} (prefix {ours['prefix']['prefix_tokens']} "
                           f"tokens, evaluated 0 times during the timed questions"
                           + ("" if max_eval < ours['prefix']['prefix_tokens'] else " -- NOT REUSED") + ")"))

    cpu_share = sum(a["cpu_s"] for a in ans) / max(sum(a["wall_s"] for a in ans), 1e-9)
    busy = max(load_before[0], load_after[0]) > 0.75 * (os.cpu_count() or 1)
    checks.append(("WARN" if busy else "INFO",
                   f"load average before/after {load_before[0]:.2f}/{load_after[0]:.2f} on {os.cpu_count()} CPUs; "
                   f"this process used {cpu_share:.2f} CPUs during the timed answers"
                   + (" -- other processes were competing for the CPUs, timings are inflated" if busy else "")))
    env = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
           "llama_cpp_python": __import__("llama_cpp").__version__, "model": model_path,
           "wall_s": round(wall, 1), "loadavg_before": load_before, "loadavg_after": load_after}

    if args.json:
        print(json.dumps({"env": env, "rows": [{"measure": r[0], "ours": r[1], "baseline": r[2], "ratio": r[3],
                                                "target": r[4]} for r in rows],
                          "checks": [{"status": s, "text": t} for s, t in checks],
                          "naive": naive_info, "ours": {**ours, "first_token_ms": stats(ft),
                                                        "first_output_ms": stats(fo), "total_ms": stats(tot),
                                                        "first_token_model_ms": stats(ft_model),
                                                        "first_output_model_ms": stats(fo_model)},
                          "ready": ready}, indent=1, default=str))
        return 0 if all(s != "FAIL" for s, _ in checks) else 1

    print(f"# assistant latency: {Path(model_path).name}, llama-cpp-python {env['llama_cpp_python']}, "
          f"Python {env['python']}, {env['cpus']} CPUs, n_threads={os.cpu_count()}")
    if naive_info:
        pt = naive_info["prompt_tokens"]
        print(f"naive: fresh Llama(n_ctx=4096), llm.reset() before every call, stream=True, "
              f"max_tokens={naive_info['max_tokens']}, {naive_info['ttft_ms'][base_key]['n']} questions")
        print(f"  prompt tokens: system+question {pt['plain']}, with tools= {pt['tools_param']}, "
              f"tools JSON in the system prompt {pt['tools_in_prompt']}")
        if tools_ignored:
            print("  tools= is IGNORED by this model's chat handler (same prompt tokens with and without it): "
                  "the baseline is the tools-in-prompt variant")
        for k in ("tools_param", "tools_in_prompt"):
            s, t = naive_info["ttft_ms"][k], naive_info["total_ms"][k]
            print(f"  {k:16s} TTFT p50 {fmt_ms(s['p50'])}, p95 {fmt_ms(s['p95'])}; total p50 {fmt_ms(t['p50'])}"
                  + ("   <- baseline" if k == base_key else ""))
    pi = ours["prefix"]
    print(f"ours: LocalModel load {ours['load_s']:.2f} s, prefix {pi['prefix_tokens']} tokens "
          + ", ".join(f"{sc}: {pi['source'][sc] or 'already in KV'} {pi['set_prefix_s'][sc]:.2f} s"
                      for sc in pi["source"])
          + f"; {len(ans)} timed answers ({args.runs} x {len(QUESTIONS)} questions x "
            f"{len(args.scenario)} scenario(s)) after {len(WARMUP)} warm-up questions each")
    if ready:
        c = ready["cold"]
        print(f"start to ready (s since spawn): cold {c['ready_s']:.2f} (imports {c['imports_s']:.2f}, vehicle "
              f"{c['vehicle_s']:.2f}, model loaded {c['model_loaded_s']:.2f}; prefix {c['prefix_source']}; "
              f"first answer at {c['answered_s']:.2f}); warm "
              + ", ".join(f"{w['ready_s']:.2f} (imports {w['imports_s']:.2f}, vehicle {w['vehicle_s']:.2f}, "
                          f"model {w['model_loaded_s']:.2f}, prefix {w['prefix_source']})" for w in ready["warm"]))
        print(f"  disk cache: {', '.join(ready['cache_files'])} ({ready['cache_bytes'] / 1e6:.1f} MB); "
              f"first answer cold == warm: "
              f"{all(w['answer'] == c['answer'] for w in ready['warm'])}; cold model_text "
              f"{c['model_text']!r}, warm model_text {ready['warm'][0]['model_text']!r}")
    if args.verbose:
        print()
        for a in ans:
            t = a["timings_ms"]
            print(f"  [{a['scenario']} r{a['run']}] {a['question']!r:45} {a['route']:8} "
                  f"ft {t['first_token']:6.0f} fo {t['first_output']:6.0f} tot {t['total']:6.0f} "
                  f"cpu {a['cpu_s']:.2f}s evals {a['prompt_evals']} dec {a['decode_evals']} "
                  f"{'fallback' if a['fallback'] else 'model'}: {a['text'][:70]!r}")
    print()
    w0, w1, w2 = 44, 12, 12
    print(f"{'measure':{w0}}  {'ours':>{w1}}  {'baseline':>{w2}}  {'ratio':>7}  target")
    print(f"{'-' * w0}  {'-' * w1}  {'-' * w2}  {'-' * 7}  {'-' * 20}")
    for label, o, b, rt, tg in rows:
        print(f"{label:{w0}}  {o:>{w1}}  {b:>{w2}}  {('-' if rt is None else f'{rt:.1f}x'):>7}  {tg}")
    print()
    for s, t in checks:
        print(f"{s:5} {t}")
    print(f"\nwhole run {wall:.1f} s")
    return 0 if all(s != "FAIL" for s, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
