"""Benchmark: one certificate across zones on two servers vs one zone on one server.

    .venv/bin/python bench/multizone.py [--runs 5]

Bed: Knot DNS (knot.test), PowerDNS (pdns.test), unbound with stub zones as
pebble's and the plugin's resolver (tests/integration/interopbed.py).

(s1) -a safedeploy, www.knot.test                                 1 zone, 1 server
(s3) -a safedeploy, www/a/b.knot.test                             1 zone, 3 names
(m3) -a safedeploy, www.knot.test www.pdns.test alias.pdns.test   2 zones on 2 servers, 2 keys,
     alias.pdns.test CNAMEd into knot.test, pdns.test's server found by its SOA MNAME via unbound
(h3) the same 3 names with --manual and the safedeploy hooks

Medians of N runs and the ratios against (s1) and (s3), measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from issue import Runner  # noqa: E402

from tests.integration.interopbed import start_interop_bed  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    enter_private_netns()
    base = Path(tempfile.mkdtemp(prefix="safedeploy-bench-mz-"))
    bed = start_interop_bed(base / "bed")
    try:
        config = bed.config(base / "safedeploy.toml", base / "state", pdns_by_mname=True)
        plugin = ["-a", "safedeploy", "--safedeploy-config", str(config)]
        hooks = [f"{sys.executable} {REPO / 'hooks' / ('manual-' + k)}" for k in ("auth", "cleanup")]
        manual = ["--manual", "--preferred-challenges", "dns",
                  "--manual-auth-hook", f"env SAFEDEPLOY_CONFIG={config} {hooks[0]}",
                  "--manual-cleanup-hook", f"env SAFEDEPLOY_CONFIG={config} {hooks[1]}"]
        multi = ["www.knot.test", "www.pdns.test", "alias.pdns.test"]
        cases = {
            "s1": (["www.knot.test"], plugin),
            "s3": (["www.knot.test", "a.knot.test", "b.knot.test"], plugin),
            "m3": (multi, plugin),
            "h3": (multi, manual),
        }
        runner = Runner(base, bed.pebble)
        results: dict[str, list[float]] = {k: [] for k in cases}
        for _ in range(args.runs):
            for key, (domains, extra) in cases.items():
                results[key].append(runner.issue(domains, extra)[0])
        med = {k: statistics.median(v) for k, v in results.items()}
        labels = {"s1": "plugin, 1 zone, 1 name", "s3": "plugin, 1 zone, 3 names",
                  "m3": "plugin, 2 zones/2 servers/CNAME, 3 names", "h3": "manual hooks, same 3 names"}
        print(f"certbot wall time, median of {args.runs} (pebble + unbound + Knot + PowerDNS on loopback):")
        for k in cases:
            print(f"  ({k}) {labels[k]:42s} {med[k]:6.2f} s")
        print(f"  (m3)/(s1) = {med['m3'] / med['s1']:.2f}   (m3)/(s3) = {med['m3'] / med['s3']:.2f}   "
              f"(h3)/(m3) = {med['h3'] / med['m3']:.2f}")
        print(json.dumps({"median_s": med, "runs": results}))
    finally:
        bed.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
