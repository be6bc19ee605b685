"""Benchmark: one ``certbot-safedeploy ari`` run over 500 lineages against a local renewalInfo server.

    .venv/bin/python bench/ari.py [--lineages 500] [--runs 3]

In the same run, as baselines: 500 ``curl`` processes fetching the same renewalInfo
URLs one after another (what a shell loop around curl does), and one ``curl`` given
all 500 URLs (one process, connections reused).  Then a second ``ari`` run inside
Retry-After, whose number of requests must be 0.  Wall time of the whole command
(process start included), median of N runs; the server is HTTPS on loopback
(tests/ari/ariserver.py), every answer a window 20 days ahead with Retry-After 6 h.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from certbot_safedeploy.ari.certid import cert_id  # noqa: E402
from tests.ari.ariserver import AriServer  # noqa: E402
from tests.pki import make_cert, write_lineage  # noqa: E402


def make_lineages(config_dir: Path, n: int, server: AriServer) -> list[str]:
    ca = make_cert("bench issuer", ca=True)
    (config_dir / "renewal").mkdir(parents=True)
    ids = []
    for i in range(n):
        name = f"site{i:04d}.example"
        leaf = make_cert(name, issuer=ca, sans=[name])
        write_lineage(str(config_dir), name, leaf, [ca])
        (config_dir / "renewal" / f"{name}.conf").write_text(
            f"version = 2.1.0\ncert = {config_dir}/live/{name}/cert.pem\n\n[renewalparams]\n"
            f"authenticator = safedeploy\nserver = {server.directory}\n")
        ids.append(cert_id(leaf.cert))
    return ids


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=900)
    return time.perf_counter() - start, proc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lineages", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("curl"):
        print("bench/ari.py: curl is missing (apt-get install curl)", file=sys.stderr)
        return 1
    with AriServer() as server, tempfile.TemporaryDirectory(prefix="bench-ari-") as tmp:
        base = Path(tmp)
        ids = make_lineages(base / "le", args.lineages, server)
        urls = [f"{server.base}/renewalInfo/{i}" for i in ids]
        env = dict(os.environ, REQUESTS_CA_BUNDLE=str(server.ca_file), PYTHONPATH=str(REPO))
        for key in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
            env.pop(key, None)
        ari_times, second_times, second_requests, curl_times, curl_one_times = [], [], [], [], []
        for run in range(args.runs):
            state = base / f"state{run}"
            config = base / f"sd{run}.toml"
            config.write_text(f'state_dir = "{state}"\n')
            argv = [sys.executable, "-m", "certbot_safedeploy", "ari", "--config-dir", str(base / "le"),
                    "--config", str(config), "--certbot", "false"]
            before = server.total()
            took, proc = timed(argv, env)
            asked = server.total() - before
            assert proc.returncode == 0 and asked == args.lineages, (asked, proc.stdout[-500:], proc.stderr[-2000:])
            ari_times.append(took)
            before = server.total("/")
            took, proc = timed(argv, env)
            second_times.append(took)
            second_requests.append(server.total("/") - before)
            start = time.perf_counter()
            for url in urls:
                subprocess.run(["curl", "-sf", "--cacert", str(server.ca_file), "-o", "/dev/null", url], check=True)
            curl_times.append(time.perf_counter() - start)
            one = ["curl", "-sf", "--cacert", str(server.ca_file)]
            for url in urls:
                one += ["-o", "/dev/null", url]
            took, proc = timed(one, env)
            assert proc.returncode == 0, proc.stderr[-500:]
            curl_one_times.append(took)
        ari_t, curl_t, one_t = (statistics.median(t) for t in (ari_times, curl_times, curl_one_times))
        second_t = statistics.median(second_times)
        print(f"lineages: {args.lineages}, runs: {args.runs} (median)")
        print(f"ari, first run ({args.lineages} renewalInfo + 1 directory request, 4 at a time): {ari_t:.2f} s")
        print(f"curl, {args.lineages} processes one after another:                 {curl_t:.2f} s "
              f"(ari/curl {ari_t / curl_t:.2f})")
        print(f"curl, one process, {args.lineages} URLs (connection reuse):          {one_t:.2f} s "
              f"(ari/curl {ari_t / one_t:.2f})")
        print(f"ari, second run inside Retry-After: {second_t:.2f} s, requests sent: {max(second_requests)}")
        return 0 if max(second_requests) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
