"""Benchmark: deploy wall time vs a plain shell deploy, and 1,000 verifies in one process.

    .venv/bin/python bench/deploy.py [--runs 25] [--lineages 1000]

* ``certbot-safedeploy deploy`` for one lineage with two targets (three files, no
  real reload), median of N runs, as a ratio to ``cp`` + ``cat`` of the same files
  measured in the same run.  Each run installs a new generation, so nothing is
  skipped as unchanged.
* ``verify`` over 1,000 distinct lineages in one process (read + every check).
* Both path-validation engines: cryptography's validator (when installed) and the
  built-in one (``SAFEDEPLOY_VERIFY_ENGINE=builtin``), each timed the same way.
* The modules the deploy path imports: it must not import certbot or requests.
* The change gate (bench/gatechanges.py): the deploy with the comparison and a cached
  CRL against the ``main`` branch's deploy, and a CRL fetch against curl.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.deploybed import two_target_config  # noqa: E402
from tests.pki import Pki, write_lineage  # noqa: E402

BIN = Path(sys.executable).parent


def timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} failed: {proc.stderr}")
    return elapsed


def engines() -> list[str]:
    from certbot_safedeploy.verify import library

    return (["library"] if library.AVAILABLE else []) + ["builtin"]


def bench_deploy(base: Path, runs: int, engine: str) -> None:
    pki = Pki.create("Bench")
    le = base / "letsencrypt"
    leaves = [pki.leaf("example.com", "www.example.com") for _ in range(2)]
    live = write_lineage(str(le), "example.com", leaves[0], [pki.intermediate], version=1)
    dest = base / "tls"
    dest.mkdir()
    root = pki.root_file(str(base))
    config = two_target_config(base, root, dest)
    env = dict(os.environ, RENEWED_LINEAGE=live, RENEWED_DOMAINS="example.com www.example.com",
               SAFEDEPLOY_CONFIG=str(config), SAFEDEPLOY_VERIFY_ENGINE=engine)
    shell = (f"cp {live}/fullchain.pem {dest}/plain.crt && cp {live}/privkey.pem {dest}/plain.key && "
             f"cat {live}/fullchain.pem {live}/privkey.pem > {dest}/plain.pem")
    ours, baseline = [], []
    for i in range(runs):
        write_lineage(str(le), "example.com", leaves[i % 2], [pki.intermediate], version=i + 2)
        baseline.append(timed(["sh", "-c", shell], env))
        ours.append(timed([str(BIN / "certbot-safedeploy"), "deploy"], env))
    med_ours, med_base = statistics.median(ours), statistics.median(baseline)
    print(f"deploy (1 lineage, 2 targets, 3 files), engine {engine}, median of {runs}:")
    print(f"  certbot-safedeploy deploy : {med_ours * 1000:7.1f} ms  (target <= 250 ms)")
    print(f"  sh cp + cat baseline      : {med_base * 1000:7.1f} ms")
    print(f"  ratio                     : {med_ours / med_base:7.1f}x")
    probe = subprocess.run([sys.executable, "-c", (
        "import sys; from certbot_safedeploy.cli import main; rc = main(['deploy']); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('certbot', 'requests', 'acme', 'josepy', 'dns')); "
        "print(rc, len(sys.modules), bad)")], env=env, capture_output=True, text=True)
    rc, count, bad = probe.stdout.strip().splitlines()[-1].split(" ", 2)
    print(f"  deploy path imports       : {count} modules; certbot/requests/acme/josepy/dns among them: {bad}")


def bench_verify(base: Path, count: int, engine: str) -> None:
    from certbot_safedeploy.material.lineage import read_lineage
    from certbot_safedeploy.material.trust import default_bundle, load_trust_store
    from certbot_safedeploy.verify.lineagecheck import verify_lineage

    pki = Pki.create("Verify")
    le = base / "many"
    dirs = [write_lineage(str(le), f"site{i}.example", pki.leaf(f"site{i}.example"), [pki.intermediate])
            for i in range(count)]
    start = time.perf_counter()
    trust = load_trust_store([default_bundle(), pki.root_file(str(base))])
    ok = 0
    for d in dirs:
        report, _ = verify_lineage(read_lineage(d), trust=trust, domains=[os.path.basename(d)],
                                   engine=engine)
        ok += report.ok
    elapsed = time.perf_counter() - start
    print(f"verify {count} lineages in one process, engine {engine} "
          f"(system bundle of {len(trust)} anchors + test root):")
    print(f"  {elapsed:.2f} s in all, {elapsed / count * 1000:.2f} ms each, {ok}/{count} passed (target <= 5 s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--lineages", type=int, default=1000)
    parser.add_argument("--changes-only", action="store_true",
                        help="only the change gate's figures (bench/gatechanges.py)")
    args = parser.parse_args()
    # an installed package has its bytecode compiled (pip, Debian); this checkout may not
    # (PYTHONDONTWRITEBYTECODE), and recompiling every module on every run is not what a hook pays
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    str(Path(__file__).resolve().parent.parent / "certbot_safedeploy")],
                   check=True, capture_output=True)
    from bench.gatechanges import bench_changes, bench_fetch

    for engine in engines():
        with tempfile.TemporaryDirectory() as tmp:
            if not args.changes_only:
                bench_deploy(Path(tmp), args.runs, engine)
                bench_verify(Path(tmp), args.lineages, engine)
            bench_changes(Path(tmp) / "changes", args.runs, engine)
    with tempfile.TemporaryDirectory() as tmp:
        bench_fetch(Path(tmp), args.runs)


if __name__ == "__main__":
    main()
