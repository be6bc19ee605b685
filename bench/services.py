"""Benchmark: a renewal deployed through each service preset, against the service's own reload.

    flock /tmp/safedeploy-integration.lock .venv/bin/python bench/services.py [--runs 5] [--only nginx,postfix]

Per service (real Debian daemons on loopback, in a private network namespace,
set up the way the integration tests do it: live/ trap, adopt --write, first
deploy): the median wall time of ``certbot-safedeploy deploy`` for a renewal
(process start, verify, install, the preset's check and reload, the probe until
the new leaf is served three times in a row), and as a baseline measured in the
same run two baselines: the preset's reload command alone (it only signals the
daemon), and the naive hook -- copy the new files over the old ones, run the same
reload, and poll until the service serves the new leaf (no verification, no
backup, no rollback).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from certbot_safedeploy.config.load import load_config  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402
from tests.integration.servers import free_port  # noqa: E402
from tests.integration.services_mail import traversable_dir  # noqa: E402
from tests.integration.services_oracle import served_leaf  # noqa: E402
from tests.integration.test_services import KINDS, Case, _adopt, _switch_service_to  # noqa: E402
from tests.pki import Pki  # noqa: E402


def bench(name: str, runs: int) -> tuple[float, float, float]:
    root = traversable_dir("safedeploy-bench-")
    case = Case(root, Pki.create("Bench"), free_port())
    (root / "root.pem").write_bytes(case.pki.root.pem)
    case.config.write_text(f'trust_anchors = ["{root / "root.pem"}"]\nstate_dir = "{root / "state"}"\n')
    case.config.chmod(0o600)
    case.issue()
    service = KINDS[name].make(case).start()
    try:
        out, reload = _adopt(case, service)
        target = load_config(str(case.config)).targets[0]
        reload = reload or list(target.reload)
        if case.cli("deploy").returncode != 0:
            raise RuntimeError(f"{name}: first deploy failed")
        _switch_service_to(service, case, out)
        subprocess.run(reload, check=True, capture_output=True)
        deploys, reloads, naive = [], [], []
        for _ in range(runs):
            case.issue()
            start = time.perf_counter()
            proc = case.cli("deploy")
            deploys.append(time.perf_counter() - start)
            if proc.returncode != 0:
                raise RuntimeError(f"{name}: deploy failed: {proc.stderr}")
            start = time.perf_counter()
            subprocess.run(reload, check=True, capture_output=True)
            reloads.append(time.perf_counter() - start)
            time.sleep(0.5)  # let the old workers go before the next round
            leaf = case.issue()
            start = time.perf_counter()
            for f in target.files:  # what a plain "cp && reload" deploy hook does
                Path(f.path).write_bytes(b"".join((case.live / f"{part}.pem").read_bytes() for part in f.content))
            subprocess.run(reload, check=True, capture_output=True)
            while True:
                try:
                    if served_leaf(KINDS[name].starttls, case.port).serial_number == leaf.cert.serial_number:
                        break
                except OSError:
                    pass
                time.sleep(0.01)
            naive.append(time.perf_counter() - start)
            time.sleep(0.5)
        return statistics.median(deploys), statistics.median(reloads), statistics.median(naive)
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default=",".join(sorted(KINDS)))
    args = parser.parse_args()
    enter_private_netns()
    print(f"medians of {args.runs} runs; ratios are deploy / baseline")
    print(f"{'service':<10} {'deploy':>8} {'reload cmd':>11} {'ratio':>6} {'cp+reload+served':>17} {'ratio':>6}")
    for name in args.only.split(","):
        deploy, reload, naive = bench(name, args.runs)
        print(f"{name:<10} {deploy:>6.2f} s {reload:>9.3f} s {deploy / reload:>6.1f} {naive:>15.2f} s "
              f"{deploy / naive:>6.1f}")


if __name__ == "__main__":
    main()
