"""The long fuzz run for developers: ``scripts/fuzz --minutes N``.

In-process cases round-robin over every target in this process; CLI cases run
beside them in worker processes (``--cli-jobs``), each starting the command as a
subprocess.  Every crash or hang is saved under ``tests/fuzz/cases/`` (one file
per distinct signature), where the CI suite replays it for ever.  A summary line is printed every minute and at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import queue
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Set

from tests.fuzz import clitrees
from tests.fuzz.harness import CASES, generate, judge, save
from tests.fuzz.targets import TARGETS


def signature(target: str, problem: str) -> str:
    """Crashes that differ only in numbers, addresses or bytes are the same crash."""
    last = problem.strip().splitlines()[-1] if problem.strip() else problem
    return target + ":" + re.sub(r"0x[0-9a-f]+|\d+|'[^']*'|b'[^']*'", "#", last)[:160]


class Run:
    def __init__(self, seed: int, cases_dir: Path) -> None:
        self.seed, self.cases_dir = seed, cases_dir
        self.counts: Dict[str, int] = {name: 0 for name in TARGETS}
        self.cli = 0
        self.crashes: List[str] = []
        self.seen: Set[str] = set()
        self.lock = threading.Lock()

    def record(self, target: str, problem: str, path_for: object) -> None:
        sig = signature(target, problem)
        with self.lock:
            if sig in self.seen:
                return
            self.seen.add(sig)
            path = path_for() if callable(path_for) else None
            self.crashes.append(f"{sig} -> {path}")
            print(f"CRASH {sig}\n  saved as {path}\n  {problem.strip()[-600:]}", flush=True)

    def summary(self, elapsed: float) -> str:
        total = sum(self.counts.values())
        return (f"{elapsed / 60:.1f} min: {total} in-process cases ({total / max(elapsed, 1e-9):.0f}/s), "
                f"{self.cli} CLI cases, {len(self.crashes)} distinct crashes/hangs")


def cli_worker(seed: int, deadline: float, worker: int, events: "multiprocessing.Queue[tuple]") -> None:
    """One CLI worker, in its own process: a thread would share the in-process loop's GIL and run a
    quarter as many cases.  Each case and each crash goes back to the parent as an event."""
    i = 0
    while time.monotonic() < deadline:
        case_seed = seed * 1_000_003 + worker * 10_000_000 + i
        i += 1
        work = Path(tempfile.mkdtemp(prefix="fuzz-cli-"))
        try:
            case = clitrees.generate(random.Random(case_seed), work)
            problem = clitrees.run(case)
        except OSError as exc:  # the harness, not the case: e.g. the venv being rebuilt under us
            print(f"cli worker {worker}: cannot run case {case_seed}: {exc}; retrying in 10 s", flush=True)
            time.sleep(10)
            continue
        finally:
            shutil.rmtree(work, ignore_errors=True)
        events.put(("cli", problem or "", case_seed))


def _drain(run: Run, events: "multiprocessing.Queue[tuple]") -> None:
    while True:
        try:
            _, problem, case_seed = events.get_nowait()
        except queue.Empty:
            return
        run.cli += 1
        if problem:
            def saved(seed: int = case_seed) -> Path:  # only a new signature is saved
                run.cases_dir.mkdir(parents=True, exist_ok=True)
                path = run.cases_dir / f"cli-{seed}.json"
                path.write_text(json.dumps({"target": "cli", "seed": seed}) + "\n")
                return path
            run.record("cli", problem, saved)


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/fuzz", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--cli-jobs", type=int, default=1, help="CLI subprocess workers beside the in-process loop")
    parser.add_argument("--targets", help="comma-separated target names (default: all)")
    parser.add_argument("--cli-only", action="store_true", help="only the CLI workers, no in-process cases")
    parser.add_argument("--cases-dir", default=str(CASES))
    parser.add_argument("--report", help="write the final counts as JSON here")
    args = parser.parse_args(argv)
    names = args.targets.split(",") if args.targets else sorted(TARGETS)
    run = Run(args.seed, Path(args.cases_dir))
    start = time.monotonic()
    deadline = start + args.minutes * 60
    print(f"fuzz: seed {args.seed}, {len(names)} targets, {args.cli_jobs} CLI worker(s), {args.minutes:g} min",
          flush=True)
    events: "multiprocessing.Queue[tuple]" = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=cli_worker, args=(args.seed, deadline, w, events),
                                       daemon=True) for w in range(args.cli_jobs)]
    for w in workers:
        w.start()
    rng = random.Random(args.seed)
    next_report = start + 60
    try:
        while time.monotonic() < deadline:
            if args.cli_only:
                time.sleep(1)
            for name in [] if args.cli_only else names:
                target = TARGETS[name]
                parts = generate(target, rng)
                problem = judge(target, parts)
                run.counts[name] += 1
                if problem:
                    run.record(name, problem, lambda n=name, p=parts: save(n, p, run.cases_dir))
            _drain(run, events)
            now = time.monotonic()
            if now >= next_report or (args.cli_only and not any(w.is_alive() for w in workers)):
                print(run.summary(now - start), flush=True)
                next_report = now + 60
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    for w in workers:
        w.join(timeout=clitrees.CLI_SECONDS + 5)
    time.sleep(0.2)
    _drain(run, events)
    elapsed = time.monotonic() - start
    print(run.summary(elapsed), flush=True)
    if args.report:
        Path(args.report).write_text(json.dumps({"seed": args.seed, "seconds": elapsed, "in_process": run.counts,
                                                 "cli": run.cli, "crashes": run.crashes}, indent=1) + "\n")
    return 1 if run.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
