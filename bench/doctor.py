"""Benchmark: ``certbot-safedeploy doctor`` over 500 lineages, without --live (target < 2 s).

    .venv/bin/python bench/doctor.py [--lineages 500] [--runs 5]

Wall time of the whole command (process start included), median of N runs, as a
ratio to ``certbot certificates`` on the same directory: certbot's own reader
of the same lineages, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.doctor.conftest import Etc  # noqa: E402
from tests.pki import Pki  # noqa: E402

BIN = Path(sys.executable).parent


def median_time(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lineages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        etc = Etc(Path(tmp), Pki.create("Doctor"))
        etc.le.mkdir(parents=True)
        etc.timer()
        for i in range(args.lineages):
            etc.lineage(f"site{i}.example", days_left=20 if i % 50 == 0 else 70)
        doctor = [str(BIN / "certbot-safedeploy"), "doctor", "--config-dir", str(etc.le),
                  "--config", str(etc.config), "--system-root", str(etc.root)]
        out = subprocess.run(doctor, capture_output=True, text=True).stdout.strip().splitlines()[-1]
        ours = median_time(doctor, args.runs)
        certbot = median_time([str(BIN / "certbot"), "certificates", "--config-dir", str(etc.le),
                               "--work-dir", tmp, "--logs-dir", tmp], args.runs)
        print(f"doctor over {args.lineages} lineages (no --live), median of {args.runs}: "
              f"{ours:.2f} s (target < 2 s); report: {out}")
        print(f"certbot certificates on the same lineages: {certbot:.2f} s; ratio doctor/certbot = {ours / certbot:.2f}")


if __name__ == "__main__":
    main()
