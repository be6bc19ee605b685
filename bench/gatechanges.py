"""The change gate's cost, for bench/deploy.py: the comparison plus a cached CRL vs the deploy before it.

* deploy median, this tree (the leaf has a CRL distribution point served on loopback;
  the first deploy caches the CRL, later ones use the cache) against the same
  deploy run by the ``main`` branch's code (``git archive main``), both in this run:
  the ratio must stay within 1.2x;
* one CRL fetch (``crlfetch.fetch``, a CRL of 5,000 entries) timed in-process and as a
  fresh Python process, against ``curl`` fetching the same URL.
"""

from __future__ import annotations

import http.server
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import io
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(directory), **kw)  # noqa: E731
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def _main_tree(base: Path, ref: str = "main") -> Path:
    out = base / "main-tree"
    out.mkdir()
    data = subprocess.run(["git", "-C", str(REPO), "archive", ref, "certbot_safedeploy"], check=True,
                          capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(out)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(out)], check=True, capture_output=True)
    return out


def _timed(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{argv[:3]} failed: {proc.stdout} {proc.stderr}")
    return elapsed


def bench_changes(base: Path, runs: int, engine: str) -> None:
    from bench.deploybed import two_target_config
    from tests.pki import Pki, cdp, make_crl, write_lineage

    crls = base / "crls"
    crls.mkdir(parents=True)
    server, port = _serve(crls)
    try:
        pki = Pki.create("Bench")
        url = f"http://127.0.0.1:{port}/int.crl"
        (crls / "int.crl").write_bytes(make_crl(pki.intermediate, list(range(1, 200))))
        leaves = [pki.leaf("example.com", "www.example.com", extensions=[cdp(url)]) for _ in range(2)]
        le = base / "letsencrypt"
        live = write_lineage(str(le), "example.com", leaves[0], [pki.intermediate], version=1)
        dest = base / "tls"
        dest.mkdir()
        status = base / "status.json"
        config = two_target_config(base, pki.root_file(str(base)), dest, extra=f'[status]\nfile = "{status}"\n')
        main_tree = _main_tree(base)
        env = dict(os.environ, RENEWED_LINEAGE=live, RENEWED_DOMAINS="example.com www.example.com",
                   SAFEDEPLOY_CONFIG=str(config), SAFEDEPLOY_VERIFY_ENGINE=engine)
        argv = [sys.executable, "-m", "certbot_safedeploy", "deploy"]
        ours_env, main_env = dict(env, PYTHONPATH=str(REPO)), dict(env, PYTHONPATH=str(main_tree))
        _timed(argv, ours_env)  # fills the CRL cache
        ours, before = [], []
        for i in range(runs):
            for which, out in ((ours_env, ours), (main_env, before)):
                write_lineage(str(le), "example.com", leaves[len(out) % 2], [pki.intermediate],
                              version=2 * i + (3 if out is ours else 2))
                out.append(_timed(argv, which))
        last = subprocess.run(argv, env=ours_env, capture_output=True, text=True).stdout
        revocation = next((line for line in last.splitlines() if "revocation" in line), "no revocation line")
        commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "main"], capture_output=True,
                                text=True).stdout.strip()
        med_ours, med_before = statistics.median(ours), statistics.median(before)
        print(f"deploy with comparison + cached CRL, engine {engine}, median of {runs}:")
        print(f"  this tree (changes, cached CRL): {med_ours * 1000:7.1f} ms")
        print(f"  main {commit} (no comparison)  : {med_before * 1000:7.1f} ms")
        print(f"  ratio                          : {med_ours / med_before:7.2f}x  (target <= 1.2x)")
        print(f"  this tree's last deploy said   : {revocation[:100]}")
    finally:
        server.shutdown()
        server.server_close()


def bench_fetch(base: Path, runs: int) -> None:
    from certbot_safedeploy.deploy import crlfetch
    from tests.pki import Pki, make_crl

    crls = base / "fetch"
    crls.mkdir()
    pki = Pki.create("Fetch")
    data = make_crl(pki.intermediate, list(range(1, 5001)))
    (crls / "big.crl").write_bytes(data)
    server, port = _serve(crls)
    url = f"http://127.0.0.1:{port}/big.crl"
    try:
        inproc, fresh, curl = [], [], []
        script = ("import sys; from certbot_safedeploy.deploy.crlfetch import fetch; "
                  "sys.exit(0 if len(fetch(sys.argv[1])) > 0 else 1)")
        env = dict(os.environ, PYTHONPATH=str(REPO))
        curl_bin = shutil.which("curl")
        for _ in range(runs):
            start = time.perf_counter()
            assert crlfetch.fetch(url) == data
            inproc.append(time.perf_counter() - start)
            fresh.append(_timed([sys.executable, "-c", script, url], env))
            if curl_bin:
                curl.append(_timed([curl_bin, "-s", "-f", "--noproxy", "*", "-o", os.devnull, url], env))
        print(f"CRL fetch ({len(data)} bytes, 5,000 entries, loopback HTTP), median of {runs}:")
        print(f"  crlfetch.fetch in-process    : {statistics.median(inproc) * 1000:7.2f} ms")
        print(f"  python -c fetch (new process): {statistics.median(fresh) * 1000:7.2f} ms")
        if curl:
            print(f"  curl (new process)           : {statistics.median(curl) * 1000:7.2f} ms")
            print(f"  ratio python process / curl  : {statistics.median(fresh) / statistics.median(curl):7.2f}x")
    finally:
        server.shutdown()
        server.server_close()
