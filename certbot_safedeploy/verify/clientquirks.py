"""What one client family refuses on a path the browsers accept: warnings naming that client.

Two shapes pass the gate with a warning rather than a refusal, because Firefox,
Chrome and OpenSSL accept them and refusing would block certificates public
CAs issue:

* an RSA leaf whose keyUsage lacks keyEncipherment.  NSS's own certificate check
  (``CERT_VerifyCert`` for ``certUsageSSLServer``, used by ``SSL_AuthCertificate``,
  ``tstclnt``, ``vfychain`` and NSS-based clients that keep NSS's default hook)
  refuses it with ``SEC_ERROR_INADEQUATE_KEY_USAGE``.  Firefox does not: its
  mozilla::pkix verifier accepts digitalSignature, keyEncipherment or keyAgreement
  for a TLS server (ECDHE needs only digitalSignature), and the CA/B Forum Baseline
  Requirements §7.1.2.7.11 make keyEncipherment optional for RSA subscribers.
* a CA on the path with an otherName name constraint.  GnuTLS refuses any
  (``GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE``); OpenSSL and NSS ignore the
  otherName subtree for DNS names.
"""

from __future__ import annotations

from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from certbot_safedeploy.verify import certinfo, report
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.report import Finding


def _rsa_without_key_encipherment(leaf: x509.Certificate) -> bool:
    try:
        ku = certinfo.extension(leaf, x509.KeyUsage)
        key = leaf.public_key()
    except (Malformed, ValueError):
        return False
    return ku is not None and isinstance(key, rsa.RSAPublicKey) and not ku.value.key_encipherment


def _other_name_constraint(cert: x509.Certificate) -> bool:
    try:
        nc = certinfo.extension(cert, x509.NameConstraints)
    except Malformed:
        return False
    if nc is None:
        return False
    subtrees = [*(nc.value.permitted_subtrees or []), *(nc.value.excluded_subtrees or [])]
    return any(isinstance(g, x509.OtherName) for g in subtrees)


def path_warnings(path: Sequence[x509.Certificate], file: str) -> list[Finding]:
    """Warnings for a validated path (leaf .. anchor), each naming the client that refuses."""
    found: list[Finding] = []
    if path and _rsa_without_key_encipherment(path[0]):
        found.append(report.warning(
            file, "key-usage", "the leaf has an RSA key and its keyUsage lacks keyEncipherment: "
            "NSS's built-in certificate check (tstclnt, vfychain, NSS clients other than Firefox) "
            "refuses it with SEC_ERROR_INADEQUATE_KEY_USAGE; Firefox, Chrome, OpenSSL and GnuTLS accept it",
            "if NSS-based clients connect, re-issue with keyUsage digitalSignature, keyEncipherment "
            "(or an EC key)"))
    for cert in path[1:]:
        if _other_name_constraint(cert):
            found.append(report.warning(
                file, "name-constraints", f"the CA {certinfo.describe(cert)} has an otherName name "
                "constraint: GnuTLS refuses every certificate below it "
                "(GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE); OpenSSL, NSS and the browsers accept it",
                "if GnuTLS clients connect, get a certificate from a CA without otherName constraints"))
            break
    return found
