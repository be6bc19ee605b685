"""Benchmark: certbot wall time against the same pebble + BIND + nginx, in one run.

    .venv/bin/python bench/issue.py [--runs 5] [--skip-rfc2136]

(a) -a safedeploy, dns-01, one name        (b) --dns-rfc2136 at its default propagation wait
(c) --webroot, one name                    (d) -a safedeploy, one certificate for 50 names by dns-01

Medians of N runs, ratios, and the peak RSS of certbot with the plugin vs --webroot.
The DNS bed is a primary and a secondary (NOTIFY on, as in production); pebble
resolves through the secondary, so (a) and (d) really wait for it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.acmebed import Certbot, Pebble  # noqa: E402
from tests.integration.dnsbed import DnsBed  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402
from tests.integration.servers import Nginx, free_port  # noqa: E402

RSS_WRAPPER = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
               "print('MAXRSS', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
               "sys.exit(rc)")


class Runner:
    def __init__(self, base: Path, pebble: Pebble) -> None:
        self.base, self.pebble, self.n = base, pebble, 0

    def issue(self, domains: list[str], args: list[str]) -> tuple[float, int]:
        self.n += 1
        certbot = Certbot(self.base / f"run{self.n}", self.pebble)
        # account registration is not part of what we measure
        subprocess.run([certbot.executable, "register", "--server", self.pebble.directory_url,
                        "--config-dir", str(certbot.config_dir), "--work-dir", str(certbot.base / "work"),
                        "--logs-dir", str(certbot.base / "logs"), "--non-interactive", "--agree-tos",
                        "--register-unsafely-without-email"], check=True, capture_output=True,
                       env=dict(os.environ, REQUESTS_CA_BUNDLE=str(self.pebble.listener_ca)))
        # run certbot under a small wrapper that reports the child's peak RSS
        real_certbot, certbot.executable = certbot.executable, sys.executable
        start = time.perf_counter()
        proc = certbot.run("-c", RSS_WRAPPER, real_certbot, "certonly", "--cert-name", f"c{self.n}",
                           *[x for d in domains for x in ("-d", d)], *args)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"certbot failed: {proc.stderr[-3000:]}")
        rss = int(re.search(r"MAXRSS (\d+)", proc.stderr).group(1))
        return elapsed, rss


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-rfc2136", action="store_true", help="skip (b): 60 s per run")
    args = parser.parse_args()
    enter_private_netns()
    base = Path(tempfile.mkdtemp(prefix="safedeploy-bench-"))
    dns = DnsBed(base / "dns", notify=True).start()
    webroot = base / "webroot"
    webroot.mkdir()
    http_port = free_port()
    nginx = Nginx(base / "nginx", http_port=http_port, webroot=webroot).start()
    pebble = Pebble(base / "pebble", f"127.0.0.2:{dns.port}", http_port=http_port).start()
    try:
        secret = re.search(r'secret "([^"]+)"', dns.key_file.read_text()).group(1)
        creds = base / "rfc2136.ini"
        creds.write_text(f"dns_rfc2136_server = 127.0.0.1\ndns_rfc2136_port = {dns.port}\n"
                         f"dns_rfc2136_name = acme-key\ndns_rfc2136_secret = {secret}\n"
                         "dns_rfc2136_algorithm = HMAC-SHA256\n")
        creds.chmod(0o600)
        plugin_dns = ["-a", "safedeploy", "--safedeploy-nsupdate-server", "127.0.0.1",
                      "--safedeploy-dns-port", str(dns.port), "--safedeploy-tsig-key", str(dns.key_file)]
        cases = {
            "a": (["www.example.test"], plugin_dns),
            "b": (["www.example.test"], ["-a", "dns-rfc2136", "--dns-rfc2136-credentials", str(creds)]),
            "c": (["web.example.test"], ["-a", "webroot", "-w", str(webroot), "--http-01-port", str(http_port)]),
            "d": ([f"n{i}.example.test" for i in range(50)], plugin_dns),
        }
        runner = Runner(base, pebble)
        results: dict[str, list[tuple[float, int]]] = {k: [] for k in cases}
        for _ in range(args.runs):
            for key, (domains, extra) in cases.items():
                if key == "b" and args.skip_rfc2136:
                    continue
                results[key].append(runner.issue(domains, extra))
        med = {k: statistics.median(t for t, _ in v) for k, v in results.items() if v}
        rss = {k: max(r for _, r in v) for k, v in results.items() if v}
        labels = {"a": "-a safedeploy dns-01, 1 name", "b": "--dns-rfc2136 (default 60 s wait)",
                  "c": "--webroot, 1 name", "d": "-a safedeploy dns-01, 50 names"}
        print(f"certbot wall time, median of {args.runs} (pebble + BIND primary/secondary + nginx on loopback):")
        for k in cases:
            if k in med:
                print(f"  ({k}) {labels[k]:36s} {med[k]:7.2f} s   peak RSS {rss[k] / 1024:6.1f} MiB")
        print(f"  (a)/(c) = {med['a'] / med['c']:.2f}   (target <= 1.3)")
        if "b" in med:
            print(f"  (a)/(b) = {med['a'] / med['b']:.3f}  (target <= 0.1)")
        print(f"  (d)/(a) = {med['d'] / med['a']:.2f}   (target <= 3)")
        print(f"  peak RSS plugin / webroot = {rss['a'] / rss['c']:.2f}")
        print(json.dumps({"median_s": med, "peak_rss_kib": rss}))
    finally:
        pebble.stop()
        nginx.stop()
        dns.stop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
