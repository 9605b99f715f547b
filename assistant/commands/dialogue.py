"""``assistant dialogue run PATH...``: scripted dialogue suites for CI."""

from __future__ import annotations

import argparse

from assistant.commands.common import add_model_args
from assistant.errors import UserError


def add_parser(sub) -> None:
    p = sub.add_parser("dialogue", help="run scripted dialogue suites (CI)",
                       description="Run dialogue suites (YAML) through the real pipeline: simulator -> "
                                   "virtual CAN bus -> reader -> tools -> model -> grounding check.")
    dsub = p.add_subparsers(dest="dialogue_command", metavar="SUBCOMMAND", required=True)
    r = dsub.add_parser("run", help="run suites; exit 1 if any turn fails",
                        description="Checks every suite file first (errors: file:line: step N (turn T, "
                                    "\"question\"): field: problem). Prints each failing turn (file:line, turn, "
                                    "the expectations that failed) and a summary: pass rate, Pass^K with "
                                    "--repeat K > 1, tool-selection accuracy, p50/p95 latency per turn; writes "
                                    "JUnit XML (one testcase per turn) with --junit.")
    r.add_argument("paths", nargs="+", metavar="PATH", help="suite files or folders of them")
    r.add_argument("--persona", help="run every suite in this persona (overrides the suites' own)")
    r.add_argument("--junit", metavar="OUT.xml", help="write a JUnit XML report")
    r.add_argument("--repeat", type=int, default=1, metavar="K",
                   help="run K times; Pass^K counts a turn only if it passes every run")
    r.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                   help="run suites in N worker processes, each with its own model and "
                        "cores/N llama.cpp threads (default 1: one process); same summary and JUnit XML")
    add_model_args(r)
    r.add_argument("--quiet", "-q", action="store_true", help="only the summary")
    r.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from assistant.dialogue.runner import Summary, SuiteRun, write_junit
    from assistant.dialogue.suite import load_suite, suite_files
    if args.repeat < 1:
        raise UserError("--repeat must be at least 1")
    if args.jobs < 1:
        raise UserError("--jobs must be at least 1")
    files = suite_files(args.paths)
    if not files:
        raise UserError(f"no suite files under {', '.join(args.paths)}")
    suites = [(f, load_suite(f)) for f in files]          # every file validated before anything runs
    from assistant.assembly import load_model, load_persona
    load_persona(args.persona)                              # a bad --persona fails before the model loads
    if args.jobs > 1:
        from assistant.dialogue.runner import run_parallel, worker_threads
        if not args.no_model:                               # a missing or broken file: one line, before any worker
            from assistant.assembly import model_config
            from assistant.llm.model import _check_file
            _check_file(model_config(args.model).resolved_path())
        runs = run_parallel(files, jobs=args.jobs, repeat=args.repeat, model=args.model, no_model=args.no_model,
                            persona=args.persona, n_threads=worker_threads(args.jobs),
                            on_suite=lambda k, path, turns: _report(args, k, path, turns))
    else:
        model = None if args.no_model else load_model(args.model)   # one model for every suite and run
        runs = []
        for k in range(args.repeat):
            results = []
            for path, suite in suites:
                turns = SuiteRun(suite, path, model, args.persona).run()
                results += turns
                _report(args, k, path, turns)
            runs.append(results)
    summary = Summary(runs)
    print(summary.text())
    if args.junit:
        write_junit(summary, args.junit)
        print(f"JUnit XML: {args.junit}")
    ok = summary.pass_k == 1.0
    return 0 if ok else 1


def _report(args: argparse.Namespace, k: int, path, turns) -> None:
    """One suite's line (and its failing turns) as it finishes, unless --quiet."""
    if args.quiet:
        return
    failed = [t for t in turns if not t.passed]
    print(f"[run {k + 1}/{args.repeat}] {path}: {len(turns) - len(failed)}/{len(turns)} passed", flush=True)
    for t in failed:
        print(f"  FAIL {t.where}: {t.name}\n       answer: {t.answer.text if t.answer else '-'}\n"
              "       " + "\n       ".join(t.failures), flush=True)
