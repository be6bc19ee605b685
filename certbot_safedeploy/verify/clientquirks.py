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
* a CA on the path with an otherName name constraint of a type GnuTLS does not
  handle: GnuTLS (3.7.9 checked with ``certtool --verify``) refuses every
  certificate below it (``GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE``) for any type but
  the Microsoft UPN (XMPP and private OIDs alike); OpenSSL and NSS ignore an
  otherName subtree when the leaf has no otherName.
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


GNUTLS_OTHER_NAMES = frozenset({"1.3.6.1.4.1.311.20.2.3"})  # Microsoft UPN: the one type it accepted


def _other_name_constraint(cert: x509.Certificate) -> str | None:
    """The dotted OID of an otherName subtree GnuTLS refuses, or None."""
    try:
        nc = certinfo.extension(cert, x509.NameConstraints)
    except Malformed:
        return None
    if nc is None:
        return None
    subtrees = [*(nc.value.permitted_subtrees or []), *(nc.value.excluded_subtrees or [])]
    return next((g.type_id.dotted_string for g in subtrees if isinstance(g, x509.OtherName)
                 and g.type_id.dotted_string not in GNUTLS_OTHER_NAMES), None)


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
        oid = _other_name_constraint(cert)
        if oid:
            found.append(report.warning(
                file, "name-constraints", f"the CA {certinfo.describe(cert)} has an otherName name "
                f"constraint of type {oid}: GnuTLS refuses every certificate below it "
                "(GNUTLS_CERT_SIGNER_CONSTRAINTS_FAILURE); OpenSSL, NSS and the browsers accept it",
                "if GnuTLS clients connect, get a certificate from a CA without otherName constraints"))
            break
    return found
