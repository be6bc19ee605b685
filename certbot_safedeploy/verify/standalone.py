"""Verify a certificate and a chain that came from elsewhere (``verify --cert --chain``).

There is no key and no certbot lineage, so the chain is judged as a TLS client
judges what a server sends (RFC 8446 §4.4.2): as a pool from which the client
builds its own path to a trust anchor.  Order is therefore not a refusal here,
only a warning (certbot's own files keep the leaf first and each issuer next, and
some old clients need that); certificates that are not on the validated path are
named in a warning too.
"""

from __future__ import annotations

import datetime
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.verify import certinfo, names, pincheck, report
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.path import validate_chain
from certbot_safedeploy.verify.pem import PemFormatError, expect_certificates
from certbot_safedeploy.verify.report import Finding, Report


def load_certificates(data: bytes, file: str, *, exactly: int | None = None
                      ) -> tuple[list[x509.Certificate], list[Finding]]:
    """Parse PEM certificates; refusals instead of exceptions."""
    try:
        blocks = expect_certificates(data, exactly=exactly, at_least=1)
    except PemFormatError as exc:
        return [], [report.error(file, "pem", str(exc), exc.fix)]
    certs: list[x509.Certificate] = []
    for i, block in enumerate(blocks):
        try:
            certs.append(x509.load_der_x509_certificate(block.der))
        except Exception as exc:  # noqa: BLE001 - ValueError and friends on hostile DER
            return [], [report.error(file, "pem", f"certificate {i + 1} cannot be parsed: {exc}",
                                     "fetch the certificate again or re-issue it")]
    return certs, []


def _order_findings(leaf: x509.Certificate, chain: Sequence[x509.Certificate],
                    path: Sequence[x509.Certificate], file: str) -> list[Finding]:
    findings: list[Finding] = []
    on_path = {certinfo.der(c) for c in path}
    sent = [leaf, *chain]
    needed = [c for c in chain if certinfo.der(c) in on_path]
    if [certinfo.der(c) for c in needed] != [certinfo.der(c) for c in path[1 : 1 + len(needed)]]:
        findings.append(report.warning(
            file, "order", "the chain is not in issuer order (clients build the path anyway; "
            f"it is {' -> '.join(certinfo.describe(c) for c in path)})",
            "write the leaf first, then each issuer in turn (certbot's order)"))
    for i, cert in enumerate(sent[1:], start=1):
        if certinfo.der(cert) not in on_path:
            findings.append(report.warning(
                file, "chain", f"chain certificate {i} ({certinfo.describe(cert)}) is not on the "
                f"path clients build; clients ignore it", "drop it from the chain file"))
    return findings


def verify_cert_chain(cert_data: bytes, chain_data: bytes | None, *, trust: TrustStore,
                      domains: Sequence[str], now: datetime.datetime, cert_file: str,
                      chain_file: str | None, engine: str | None = None,
                      pin_set: Sequence[str] = ()) -> Report:
    """Check one leaf certificate (and its chain, if given) as a TLS client would."""
    rep = Report(cert_file)
    leaves, problems = load_certificates(cert_data, cert_file, exactly=1)
    rep.extend(problems)
    chain: list[x509.Certificate] = []
    if chain_data is not None and chain_file is not None:
        chain, problems = load_certificates(chain_data, chain_file)
        rep.extend(problems)
    if rep.errors:
        return rep
    wanted = [d for d in domains if d]
    result = validate_chain(leaves[0], chain, trust, dns_name=wanted[0] if wanted else None,
                            now=now, file=cert_file, engine=engine)
    rep.engine = result.engine
    rep.extend(result.findings)
    if result.path is not None:
        rep.extend(_order_findings(leaves[0], chain, result.path, chain_file or cert_file))
    rep.extend(names.check_names(leaves[0], wanted[1:], cert_file))
    served = list(result.path) if result.path else [leaves[0], *chain]
    rep.extend(pincheck.check_pins(served, pin_set, chain_file or cert_file))
    return rep
