"""x509-limbo as a yardstick: our verifier on the server/DNS-name cases, per engine,
next to cryptography's own verifier on the same vectors.

    .venv/bin/python bench/limbo.py --limbo /work/limbo/limbo.json [--show-wrong]

x509-limbo (https://github.com/C2SP/x509-limbo) is not vendored: build its
limbo.json with its own generator and pass the path.  Every SERVER case with an
expected DNS peer name is run exactly as

    certbot-safedeploy verify --cert LEAF --chain INTERMEDIATES --domain NAME --trust-anchor ROOTS

would run it (in-process, at the case's validation time), once per engine.
A case is *correct* when the verdict matches the expected result; a *false accept*
passes a chain the case says clients must refuse; a *false reject* refuses a good
one; a *crash* is any exception escaping the verifier (there must be none).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from certbot_safedeploy.material.trust import anchors_from_pem  # noqa: E402
from certbot_safedeploy.verify import library  # noqa: E402
from certbot_safedeploy.verify.chain import TrustStore  # noqa: E402
from certbot_safedeploy.verify.standalone import verify_cert_chain  # noqa: E402

Case = dict[str, Any]


def server_dns_cases(path: str) -> list[Case]:
    cases = json.loads(Path(path).read_text())["testcases"]
    return [c for c in cases if c["validation_kind"] == "SERVER"
            and (c.get("expected_peer_name") or {}).get("kind") == "DNS"]


def when(case: Case) -> datetime.datetime:
    value = case.get("validation_time")
    if not value:
        return datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def ours(engine: str) -> Callable[[Case], bool]:
    def run(case: Case) -> bool:
        roots = "".join(case["trusted_certs"]).encode()
        try:
            anchors = anchors_from_pem(roots)
        except ValueError:
            anchors = ()
        chain = "".join(case["untrusted_intermediates"]).encode() or None
        report = verify_cert_chain(
            case["peer_certificate"].encode(), chain, trust=TrustStore(anchors, "limbo"),
            domains=[case["expected_peer_name"]["value"]], now=when(case),
            cert_file="cert.pem", chain_file="chain.pem" if chain else None, engine=engine)
        return report.ok
    return run


def cryptography_itself(case: Case) -> bool:
    """cryptography's verifier as its own x509-limbo harness drives it."""
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store

    try:
        roots = [x509.load_pem_x509_certificate(c.encode()) for c in case["trusted_certs"]]
        inters = [x509.load_pem_x509_certificate(c.encode()) for c in case["untrusted_intermediates"]]
        leaf = x509.load_pem_x509_certificate(case["peer_certificate"].encode())
        builder = PolicyBuilder().store(Store(roots)).time(when(case).replace(tzinfo=None))
        if case.get("max_chain_depth") is not None:
            builder = builder.max_chain_depth(case["max_chain_depth"])
        verifier = builder.build_server_verifier(x509.DNSName(case["expected_peer_name"]["value"]))
        verifier.verify(leaf, inters)
    except Exception:  # noqa: BLE001 - the harness counts any refusal as "rejected"
        return False
    return True


def score(name: str, verdict: Callable[[Case], bool], cases: list[Case], show: bool,
          crash_ok: bool = False) -> Counter[str]:
    tally: Counter[str] = Counter()
    start = time.perf_counter()
    for case in cases:
        expected = case["expected_result"] == "SUCCESS"
        try:
            accepted = verdict(case)
        except Exception:  # noqa: BLE001 - counted, and printed: there must be none
            tally["crashes"] += 1
            if not crash_ok:
                print(f"  CRASH {case['id']}\n{traceback.format_exc()}", file=sys.stderr)
            continue
        if accepted == expected:
            tally["correct"] += 1
        else:
            tally["false accepts" if accepted else "false rejects"] += 1
            if show:
                print(f"  {name}: {'accepts' if accepted else 'rejects'} {case['id']}")
    tally["ms"] = int((time.perf_counter() - start) * 1000)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limbo", required=True, help="limbo.json built by x509-limbo's generator")
    parser.add_argument("--show-wrong", action="store_true", help="list each case judged wrongly")
    args = parser.parse_args()
    cases = server_dns_cases(args.limbo)
    runs: list[tuple[str, Callable[[Case], bool]]] = []
    if library.AVAILABLE:
        runs.append((f"safedeploy, engine {library.NAME}", ours("")))
    runs.append(("safedeploy, engine built-in", ours("builtin")))
    if library.AVAILABLE:
        runs.append((f"{library.NAME} itself (baseline)", cryptography_itself))
    results = [(name, score(name, fn, cases, args.show_wrong)) for name, fn in runs]
    print(f"x509-limbo: {len(cases)} server cases with a DNS peer name "
          f"({sum(c['expected_result'] == 'SUCCESS' for c in cases)} expected to pass)")
    baseline = results[-1][1]["correct"] if library.AVAILABLE else None
    for name, tally in results:
        ratio = f"  ratio vs cryptography {tally['correct'] / baseline:.2f}x" if baseline else ""
        print(f"  {name:<42} correct {tally['correct']:3d}  false accepts {tally['false accepts']:3d}  "
              f"false rejects {tally['false rejects']:3d}  crashes {tally['crashes']}  "
              f"({tally['ms']} ms){ratio}")


if __name__ == "__main__":
    main()
