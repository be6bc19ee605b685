"""Trust anchors and the order of a saved chain (RFC 5280 §6, RFC 8446 §4.4.2).

:class:`TrustStore` indexes anchors by subject for path building.  A saved
chain (certbot's chain.pem) is checked the way clients use it: the leaf first,
each certificate followed by its issuer, until a certificate that a trust anchor
issued (or that *is* an anchor: same subject and key, e.g. a cross-signed root
the store trusts directly).  That prefix is the path clients build; what follows
it is surplus, reported as a warning.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any, Sequence

from cryptography import x509

from certbot_safedeploy.verify import certinfo, report
from certbot_safedeploy.verify.certinfo import Malformed, describe, not_after, not_before
from certbot_safedeploy.verify.report import Finding
from certbot_safedeploy.verify.sigcheck import signed_by

__all__ = ["TrustStore", "not_after", "not_before", "describe", "signed_by", "saved_prefix",
           "SavedPrefix"]


class TrustStore:
    """Trust anchors indexed by subject, for issuer look-ups.

    A path ends at a self-signed anchor, as OpenSSL, GnuTLS and Python's ``ssl``
    require by default: a trusted certificate that is not self-signed (a cross-sign,
    an intermediate, a root whose AKI names another key) is kept in
    :attr:`set_aside` and serves only as an intermediate.  ``partial_chain``
    certificates anchor whatever they are (OpenSSL's ``-partial_chain``): the
    operator gave them on purpose (``verify --partial-chain-anchor``).
    """

    def __init__(self, anchors: Sequence[x509.Certificate], source: str, *,
                 partial_chain: Sequence[x509.Certificate] = ()) -> None:
        self.source = source
        self.set_aside: tuple[x509.Certificate, ...] = ()
        self.anchors: tuple[x509.Certificate, ...] = ()
        self._by_subject: dict[bytes, list[x509.Certificate]] = {}
        self._der: set[bytes] = set()
        self._library_store: Any = None
        kept: list[x509.Certificate] = []
        aside: list[x509.Certificate] = []
        on_purpose = set()
        for cert in partial_chain:
            try:
                on_purpose.add(certinfo.der(cert))
            except Malformed:
                continue
        for anchor in [*partial_chain, *anchors]:
            try:
                subject, der = certinfo.subject_der(anchor), certinfo.der(anchor)
            except Malformed:
                continue  # an unparsable anchor can anchor nothing
            if der in self._der or any(certinfo.der(a) == der for a in aside):
                continue
            if der not in on_purpose and not certinfo.self_signed(anchor):
                aside.append(anchor)
                continue
            kept.append(anchor)
            self._by_subject.setdefault(subject, []).append(anchor)
            self._der.add(der)
        self.anchors = tuple(kept)
        self.set_aside = tuple(aside)

    def __len__(self) -> int:
        return len(self._der)

    def __contains__(self, der: object) -> bool:
        """``der in store``: the exact certificate (DER) is an anchor."""
        return der in self._der

    def contains(self, cert: x509.Certificate) -> bool:
        """The certificate is an anchor, or carries an anchor's subject and key (a cross-sign)."""
        try:
            if certinfo.der(cert) in self._der:
                return True
            same_name = self.by_subject(certinfo.subject_der(cert))
            return bool(same_name) and any(certinfo.spki(a) == certinfo.spki(cert) for a in same_name)
        except Malformed:
            return False

    def by_subject(self, subject: bytes) -> list[x509.Certificate]:
        return self._by_subject.get(subject, [])

    def issuers_of(self, cert: x509.Certificate) -> list[x509.Certificate]:
        try:
            candidates = self.by_subject(certinfo.issuer_der(cert))
        except Malformed:
            return []
        return [a for a in candidates if signed_by(cert, a)]

    def library_store(self) -> Any:
        """cryptography's ``x509.verification.Store`` of these anchors, built once."""
        if self._library_store is None:
            from cryptography.x509.verification import Store

            self._library_store = Store(list(self.anchors))
        return self._library_store


@dataclasses.dataclass(frozen=True)
class SavedPrefix:
    """How a saved chain (leaf first) reaches the trust anchors."""

    end: int | None  # index of the last certificate clients need; None: no anchor reached
    findings: list[Finding]


def _label(i: int) -> str:
    return "leaf" if i == 0 else f"chain[{i}]"


def saved_prefix(chain: Sequence[x509.Certificate], trust: TrustStore, file: str,
                 now: datetime.datetime) -> SavedPrefix:
    """Check order up to the first certificate a trust anchor issued; warn about the rest."""
    findings: list[Finding] = []
    end: int | None = None
    for i, cert in enumerate(chain):
        if i > 0 and trust.contains(cert):
            end = i - 1  # the anchor itself (or its cross-sign) was sent
            break
        if trust.issuers_of(cert):
            end = i
            break
        if i + 1 == len(chain):
            break
        issuer = chain[i + 1]
        try:
            in_order = certinfo.issuer_der(cert) == certinfo.subject_der(issuer)
            elsewhere = [j for j, c in enumerate(chain)
                         if j != i + 1 and certinfo.subject_der(c) == certinfo.issuer_der(cert)]
        except Malformed as exc:
            findings.append(report.error(file, "malformed", f"{_label(i)} has {exc}",
                                         "discard this chain and re-issue the certificate"))
            return SavedPrefix(None, findings)
        if not in_order:
            if elsewhere:
                msg = (f"wrong order: the issuer of {_label(i)} ({_issuer_text(cert)}) "
                       f"is at position {elsewhere[0]}, not {i + 1}")
                fix = "write the chain leaf first, then each issuer in turn (certbot's own order)"
            else:
                msg = (f"{_label(i)} was issued by {_issuer_text(cert)}, but the next "
                       f"certificate is {describe(issuer)}: a foreign or missing intermediate")
                fix = "restore chain.pem from archive/ or re-issue to get the CA's chain"
            findings.append(report.error(file, "chain", msg, fix))
            return SavedPrefix(None, findings)
    if end is None:
        return SavedPrefix(None, findings)
    for j in range(end + 1, len(chain)):
        extra = chain[j]
        state = "expired at" if not_after(extra) < now else "valid until"
        if certinfo.der(extra) in trust:
            role = "the trust anchor itself"
        elif trust.contains(extra):
            role = "a cross-sign of a trust anchor (same name and key)"
        else:
            role = "not needed to reach a trust anchor"
        findings.append(report.warning(
            file, "chain", f"{_label(j)} ({describe(extra)}, issued by {_issuer_text(extra)}) is "
            f"{role}; clients ignore it ({state} {not_after(extra).isoformat()})",
            "nothing to do; the CA sends it for old clients"))
    findings.append(report.passed(file, "chain", f"{end + 1} certificate(s) in order up to a trust anchor"))
    return SavedPrefix(end, findings)


def _issuer_text(cert: x509.Certificate) -> str:
    try:
        return cert.issuer.rfc4514_string()
    except Exception:  # noqa: BLE001
        return "an unparsable name"

