"""x509-limbo as a yardstick: our verifier on the server/DNS-name cases, per engine,
next to cryptography's own verifier on the same vectors.

    .venv/bin/python bench/limbo.py --limbo /work/limbo/limbo.json [--show-wrong] [--clients]
    .venv/bin/python bench/limbo.py --generated --clients   # tests/oracle's PKIs, no limbo needed

x509-limbo (https://github.com/C2SP/x509-limbo) is not vendored: build its
limbo.json with its own generator and pass the path.  Every SERVER case with an
expected DNS peer name is run exactly as

    certbot-safedeploy verify --cert LEAF --chain INTERMEDIATES --domain NAME --trust-anchor ROOTS

would run it (in-process, at the case's validation time), once per engine.
A case is *correct* when the verdict matches the expected result; a *false accept*
passes a chain the case says clients must refuse; a *false reject* refuses a good
one; a *crash* is any exception escaping the verifier (there must be none).

With ``--clients`` (needs openssl, gnutls-bin, libnss3-tools) the same cases also go
to the client oracles of tests/oracle/clients.py (``openssl verify`` plain,
``-x509_strict``, ``-auth_level 2``; ``certtool --verify``; NSS ``vfychain -u 1``), and
the report adds, per engine, its agreement with each client and its false accepts
(the gate accepts, some client refuses) and false rejects (the gate refuses, every
client accepts) against the clients; each client's own score against limbo's
expected results; and the gate's run time against ``openssl verify``'s over the
same cases (the ratio includes openssl's process start, as a deploy hook would pay it).
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


def generated_cases() -> list[Case]:
    """tests/oracle's generated PKIs in limbo's shape."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.oracle.cases import catalogue

    def pem(cert: Any) -> str:
        return str(cert.public_bytes(Encoding.PEM).decode())
    return [{"id": e.case.name, "validation_kind": "SERVER",
             "expected_peer_name": {"kind": "DNS", "value": e.case.dns_name},
             "peer_certificate": pem(e.case.leaf), "untrusted_intermediates": [pem(c) for c in e.case.pool],
             "trusted_certs": [pem(c) for c in e.case.anchors], "validation_time": e.case.when.isoformat(),
             "expected_result": "SUCCESS" if e.gate else "FAILURE", "max_chain_depth": None}
            for e in catalogue()]


def when(case: Case) -> datetime.datetime:
    value = case.get("validation_time")
    if not value:
        return datetime.datetime.now(datetime.timezone.utc)
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def ours(engine: str) -> Callable[[Case], bool]:
    def run(case: Case) -> bool:
        return gate_report(engine, case).ok
    return run


def gate_report(engine: str, case: Case) -> Any:
    """The report of ``verify --cert --chain --domain --trust-anchor`` on this case."""
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
    return report


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


def oracle_case(case: Case) -> Any:
    from tests.oracle.clients import Case as OracleCase

    return OracleCase(case["id"], case["peer_certificate"].encode(),
                      [c.encode() for c in case["untrusted_intermediates"]],
                      [c.encode() for c in case["trusted_certs"]], case["expected_peer_name"]["value"], when(case))


def against_clients(cases: list[Case], runs: list[tuple[str, str]], show: bool) -> None:
    """Each engine against each client; each client against limbo; gate time vs openssl verify's."""
    from tests.oracle import clients
    from tests.oracle.cases import deliberate_reason

    missing = clients.missing_tools()
    if missing:
        print(f"clients: skipped, missing {', '.join(missing)} (apt-get install openssl gnutls-bin libnss3-tools)")
        return
    answers: list[dict[str, bool]] = []
    timings = {"openssl": 0.0}
    for case in cases:
        start = time.perf_counter()
        verdicts = clients.ask(oracle_case(case), ["openssl"])
        timings["openssl"] += time.perf_counter() - start
        verdicts.update(clients.ask(oracle_case(case), [c for c in clients.CLIENTS if c != "openssl"]))
        answers.append({c: ok for c, (ok, _) in verdicts.items()})
    print(f"clients: {clients.versions()}")
    for client in clients.CLIENTS:
        right = sum(a[client] == (c["expected_result"] == "SUCCESS") for a, c in zip(answers, cases))
        note = " (path only: vfychain checks no name)" if client not in clients.NAME_CHECKING else ""
        print(f"  {client:<16} agrees with the expected result on {right:3d}/{len(cases)}{note}")
    for name, engine in runs:
        start = time.perf_counter()
        gate, deliberate, warned = [], set(), set()
        for case in cases:
            try:
                report = gate_report(engine, case)
            except Exception:  # noqa: BLE001 - a crash refuses; score() already printed it
                gate.append(False)
                continue
            gate.append(report.ok)
            if report.ok and any(f.severity.value == "warning" and f.check in ("key-usage", "name-constraints")
                                 for f in report.findings):
                warned.add(case["id"])
            if not report.ok and deliberate_reason(report.findings):
                deliberate.add(case["id"])
        elapsed = time.perf_counter() - start
        agree = {c: sum(g == a[c] for g, a in zip(gate, answers)) for c in clients.CLIENTS}
        false_accepts = [c["id"] for g, a, c in zip(gate, answers, cases) if g and not all(a.values())]
        false_rejects = [c["id"] for g, a, c in zip(gate, answers, cases) if not g and all(a.values())]
        all_agree = sum(all(g == v for v in a.values()) for g, a in zip(gate, answers))
        print(f"  {name}: agrees with every client on {all_agree}/{len(cases)}; "
              + ", ".join(f"{c} {n}" for c, n in agree.items()))
        on_purpose = [i for i in false_rejects if i in deliberate]
        print(f"    vs clients: false accepts {len(false_accepts)} (accepted, some client refuses; "
              f"{len([i for i in false_accepts if i in warned])} with a warning naming it), "
              f"false rejects {len(false_rejects)} (refused, every client accepts; {len(on_purpose)} of them "
              "on the deliberate list, docs/verification-policy.rst)")
        if show:
            for ident in false_accepts:
                print(f"      accepts, a client refuses: {ident}{' (warned)' if ident in warned else ''}")
            for ident in false_rejects:
                print(f"      refuses, every client accepts: {ident}{' (deliberate)' if ident in deliberate else ''}")
        ratio = timings["openssl"] / elapsed if elapsed else float("inf")
        print(f"    run time: gate {elapsed * 1000:.0f} ms, openssl verify {timings['openssl'] * 1000:.0f} ms "
              f"over the same {len(cases)} cases (openssl/gate {ratio:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--limbo", help="limbo.json built by x509-limbo's generator")
    source.add_argument("--generated", action="store_true",
                        help="instead of limbo, the generated cases of tests/oracle/cases.py (their "
                        "expected result is the gate's intended verdict)")
    parser.add_argument("--show-wrong", action="store_true", help="list each case judged wrongly")
    parser.add_argument("--clients", action="store_true",
                        help="also compare with OpenSSL, GnuTLS and NSS (tests/oracle/clients.py)")
    args = parser.parse_args()
    cases = generated_cases() if args.generated else server_dns_cases(args.limbo)
    runs: list[tuple[str, Callable[[Case], bool]]] = []
    if library.AVAILABLE:
        runs.append((f"safedeploy, engine {library.NAME}", ours("")))
    runs.append(("safedeploy, engine built-in", ours("builtin")))
    if library.AVAILABLE:
        runs.append((f"{library.NAME} itself (baseline)", cryptography_itself))
    results = [(name, score(name, fn, cases, args.show_wrong)) for name, fn in runs]
    print(f"{'generated' if args.generated else 'x509-limbo'}: {len(cases)} server cases with a DNS peer name "
          f"({sum(c['expected_result'] == 'SUCCESS' for c in cases)} expected to pass)")
    baseline = results[-1][1]["correct"] if library.AVAILABLE else None
    for name, tally in results:
        ratio = f"  ratio vs cryptography {tally['correct'] / baseline:.2f}x" if baseline else ""
        print(f"  {name:<42} correct {tally['correct']:3d}  false accepts {tally['false accepts']:3d}  "
              f"false rejects {tally['false rejects']:3d}  crashes {tally['crashes']}  "
              f"({tally['ms']} ms){ratio}")
    if args.clients:
        engines = ([(f"safedeploy, engine {library.NAME}", "")] if library.AVAILABLE else [])
        against_clients(cases, [*engines, ("safedeploy, engine built-in", "builtin")], args.show_wrong)


if __name__ == "__main__":
    main()
