"""Verify a certbot lineage (``live/<name>/``) held in memory.

The I/O layer (:mod:`certbot_safedeploy.material.lineage`) reads the four files; this
module parses and checks them and, when everything passes, returns the material a
deploy installs.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Iterable, Mapping, Sequence

from cryptography import x509

from certbot_safedeploy.verify import chain as chain_checks
from certbot_safedeploy.verify.certinfo import describe, not_after
from certbot_safedeploy.verify.path import validate_chain
from certbot_safedeploy.verify import names, pincheck, report
from certbot_safedeploy.verify.keys import PrivateKey, key_matches_certificate, load_private_key
from certbot_safedeploy.verify.pem import PemFormatError, expect_certificates, expect_private_key
from certbot_safedeploy.verify.report import Finding, Report

CERT, CHAIN, FULLCHAIN, PRIVKEY = "cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"
LINEAGE_FILES = (CERT, CHAIN, FULLCHAIN, PRIVKEY)


@dataclasses.dataclass(frozen=True)
class LineageData:
    """Raw contents of a lineage directory, as read by the I/O layer."""

    directory: str
    contents: Mapping[str, bytes]
    unreadable: Mapping[str, str]  # file name -> reason it could not be read


@dataclasses.dataclass(frozen=True)
class VerifiedLineage:
    """Material that passed every check, in canonical PEM."""

    directory: str
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # intermediates, issuer order
    cert_pem: bytes
    chain_pem: bytes
    privkey_pem: bytes

    @property
    def fullchain_pem(self) -> bytes:
        return self.cert_pem + self.chain_pem

    def part(self, name: str) -> bytes:
        return {
            "cert": self.cert_pem,
            "chain": self.chain_pem,
            "fullchain": self.fullchain_pem,
            "privkey": self.privkey_pem,
        }[name]


def _path(data: LineageData, name: str) -> str:
    return data.directory if name == "." else f"{data.directory.rstrip('/')}/{name}"


def verify_lineage(
    data: LineageData,
    *,
    trust: chain_checks.TrustStore,
    domains: Iterable[str] = (),
    pin_set: Sequence[str] = (),
    now: datetime.datetime | None = None,
    engine: str | None = None,
) -> tuple[Report, VerifiedLineage | None]:
    """Run every check; return the report and, if it passed, the material."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    rep = Report(data.directory)
    for name, reason in data.unreadable.items():
        rep.findings.append(
            report.error(
                _path(data, name), "file", reason,
                "restore the lineage from archive/ (certbot update_symlinks) or re-issue",
            )
        )
    parsed: dict[str, list[x509.Certificate]] = {}
    texts: dict[str, bytes] = {}
    key: PrivateKey | None = None
    for name in (CERT, CHAIN, FULLCHAIN):
        if name not in data.contents:
            continue
        try:
            if name == CERT:
                blocks = expect_certificates(data.contents[name], exactly=1)
            else:
                blocks = expect_certificates(data.contents[name], at_least=1 if name == CHAIN else 2)
            parsed[name] = [x509.load_der_x509_certificate(b.der) for b in blocks]
            texts[name] = b"".join(b.text for b in blocks)
        except PemFormatError as exc:
            rep.findings.append(report.error(_path(data, name), "pem", str(exc), exc.fix))
        except ValueError as exc:
            rep.findings.append(
                report.error(_path(data, name), "pem", f"certificate cannot be parsed: {exc}",
                             "restore the file from archive/ or re-issue")
            )
    if PRIVKEY in data.contents:
        try:
            block = expect_private_key(data.contents[PRIVKEY])
            key = load_private_key(block)
            texts[PRIVKEY] = block.text
        except PemFormatError as exc:
            rep.findings.append(report.error(_path(data, PRIVKEY), "pem", str(exc), exc.fix))
    if rep.errors:
        return rep, None
    rep.findings.append(report.passed(data.directory, "pem", "all four files hold the expected PEM"))

    leaf = parsed[CERT][0]
    intermediates = parsed[CHAIN]
    full = [leaf, *intermediates]
    assert key is not None
    if key_matches_certificate(key, leaf):
        rep.findings.append(report.passed(_path(data, PRIVKEY), "key", "private key matches cert.pem"))
    else:
        rep.findings.append(
            report.error(
                _path(data, PRIVKEY), "key",
                "the private key does not match the certificate's public key",
                "restore the matching privkey.pem from archive/, or re-issue",
            )
        )
    if texts[FULLCHAIN] != texts[CERT] + texts[CHAIN]:
        rep.findings.append(
            report.error(
                _path(data, FULLCHAIN), "fullchain",
                "fullchain.pem is not exactly cert.pem followed by chain.pem",
                "rebuild it: cat cert.pem chain.pem > fullchain.pem (or restore from archive/)",
            )
        )
    try:
        rep.extend(chain_checks_for(full, trust, now, _path(data, CHAIN), engine, rep))
        rep.extend(names.check_names(leaf, domains, _path(data, CERT)))
        rep.extend(pincheck.check_pins(full, pin_set, _path(data, FULLCHAIN)))
    except Exception as exc:  # noqa: BLE001 - hostile input is a refusal, never a traceback
        rep.findings.append(report.error(
            _path(data, FULLCHAIN), "malformed",
            f"the certificates cannot be processed ({type(exc).__name__}: {str(exc)[:120]})",
            "restore the lineage from archive/ or re-issue"))
    if rep.errors:
        return rep, None
    return rep, VerifiedLineage(
        directory=data.directory,
        leaf=leaf,
        chain=tuple(intermediates),
        cert_pem=texts[CERT],
        chain_pem=texts[CHAIN],
        privkey_pem=texts[PRIVKEY],
    )


def chain_checks_for(full: Sequence[x509.Certificate], trust: chain_checks.TrustStore,
                     now: datetime.datetime, file: str, engine: str | None,
                     rep: Report) -> list[Finding]:
    """Order of the saved chain up to a trust anchor, then path validation over that prefix.

    Clients need only the prefix that reaches an anchor; later certificates (a
    self-signed root, an expired cross-sign) are warned about, never refused.
    """
    prefix = chain_checks.saved_prefix(full, trust, file, now)
    findings = list(prefix.findings)
    if any(f.severity is report.Severity.ERROR for f in findings):
        return findings
    pool = full[1:] if prefix.end is None else full[1 : prefix.end + 1]
    result = validate_chain(full[0], pool, trust, dns_name=None, now=now, file=file, engine=engine)
    rep.engine = result.engine
    findings += result.findings
    if result.path is not None:
        leaf_end = not_after(full[0])
        for cert in result.path[1:-1]:
            if not_after(cert) < leaf_end:
                findings.append(report.warning(
                    file, "validity", f"the intermediate {describe(cert)} expires at "
                    f"{not_after(cert).isoformat()}, before the leaf ({leaf_end.isoformat()})",
                    "renew before the intermediate expires; clients will fail from then on"))
    return findings
