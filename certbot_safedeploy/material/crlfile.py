"""``verify --crl FILE``: judge a leaf against a CRL the user supplies (reads the files, then crlcheck)."""

from __future__ import annotations

import datetime

from cryptography import x509

from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.crlcheck import GOOD, REVOKED, check_crl
from certbot_safedeploy.verify.pem import PemFormatError, expect_certificates
from certbot_safedeploy.verify.report import Finding
from certbot_safedeploy.verify.sigcheck import signed_by

LIMIT = 64 << 20


def _read(path: str, limit: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(limit)


def _certs(data: bytes) -> list[x509.Certificate]:
    return [x509.load_der_x509_certificate(b.der) for b in expect_certificates(data, at_least=1)]


def crl_findings(cert_path: str, chain_path: str | None, crl_path: str,
                 now: datetime.datetime | None = None) -> list[Finding]:
    """One finding: revoked (error), not listed (passed) or an unusable CRL (warning)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    try:
        crl = _read(crl_path, LIMIT)
        certs = _certs(_read(cert_path, 1 << 20))
        pool = certs[1:] + (_certs(_read(chain_path, 1 << 20)) if chain_path else [])
    except OSError as exc:
        return [report.error(crl_path, "crl", f"cannot read: {exc.strerror or exc}", "pass readable files")]
    except (PemFormatError, ValueError) as exc:
        return [report.error(cert_path, "crl", f"cannot parse the certificates: {exc}", "pass PEM files")]
    leaf = certs[0]
    issuers = [c for c in pool if c.subject == leaf.issuer and signed_by(leaf, c)]
    if not issuers:
        return [report.warning(crl_path, "crl", "the chain does not hold the leaf's issuer, so the CRL's "
                               "signature cannot be checked", "pass the issuer with --chain")]
    verdict = check_crl(leaf, issuers[0], crl, now)
    if verdict.status == REVOKED:
        return [report.error(crl_path, "crl", f"the certificate is revoked: {verdict.detail}",
                             "replace it: certbot renew --cert-name NAME --force-renewal")]
    if verdict.status == GOOD:
        return [report.passed(crl_path, "crl", verdict.detail)]
    return [report.warning(crl_path, "crl", f"the CRL is unusable: {verdict.detail}",
                           "fetch the current CRL from the certificate's distribution point")]
