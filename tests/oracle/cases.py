"""Generated PKIs for the oracle comparison: every shape issue 21 found, and the usual good ones.

Each case carries what the gate must answer (``gate``: True accept, False refuse)
so that a regression shows even where the clients agree with each other.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from tests.oracle.clients import Case
from tests.pki import DAY, NOW, Issued, Pki, make_cert, new_key

CA_KU = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                      data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                      encipher_only=False, decipher_only=False)


def leaf_ku(*, key_encipherment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=True, content_commitment=False,
                         key_encipherment=key_encipherment, data_encipherment=False, key_agreement=False,
                         key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False)


@dataclasses.dataclass
class Expected:
    case: Case
    gate: bool  # the gate's verdict this branch decided on
    warns: str = ""  # accepted with a warning naming this client family
    key_pem: bytes | None = None  # the leaf's private key, for real handshakes


def _case(name: str, leaf: Issued | x509.Certificate, pool: list, anchors: list, dns: str,
          when: datetime.datetime = NOW) -> Case:
    def cert(c: Issued | x509.Certificate) -> x509.Certificate:
        return c.cert if isinstance(c, Issued) else c
    return Case(name, cert(leaf), [cert(c) for c in pool], [cert(c) for c in anchors], dns, when)


def _other_name_nc(oid: str = "1.2.3.4", value: bytes = b"\x05\x00") -> x509.NameConstraints:
    other = x509.OtherName(x509.ObjectIdentifier(oid), value)
    return x509.NameConstraints(permitted_subtrees=[other, x509.DNSName("example.com")], excluded_subtrees=None)


@functools.lru_cache(maxsize=1)
def catalogue() -> tuple[Expected, ...]:
    pki = Pki.create("Oracle")
    root, inter = pki.root, pki.intermediate
    out: list[Expected] = []

    def add(name: str, leaf, pool, anchors, dns, gate: bool, when=NOW, warns: str = "") -> None:
        key = leaf.key_pem if isinstance(leaf, Issued) else None
        out.append(Expected(_case(name, leaf, pool, anchors, dns, when), gate, warns, key))

    add("good-ec", pki.leaf("example.com"), [inter], [root], "example.com", True)
    add("good-rsa", pki.leaf("example.com", key_kind="rsa",
                             extensions=[(leaf_ku(key_encipherment=True), True)]),
        [inter], [root], "example.com", True)
    add("wrong-name", pki.leaf("example.com"), [inter], [root], "other.org", False)
    add("missing-intermediate", pki.leaf("example.com"), [], [root], "example.com", False)

    # public-suffix wildcards
    add("wildcard-tld", pki.leaf("*.com"), [inter], [root], "example.com", False)
    add("wildcard-test-tld", pki.leaf("*.test"), [inter], [root], "probe.test", False)
    add("wildcard-public-suffix", pki.leaf("*.co.uk"), [inter], [root], "example.co.uk", False)
    add("wildcard-good", pki.leaf("*.example.com"), [inter], [root], "www.example.com", True)
    # underscores, as clients match them
    add("underscore-exact", pki.leaf("foo_bar.example.com"), [inter], [root], "foo_bar.example.com", True)
    add("underscore-under-wildcard", pki.leaf("*.example.com"), [inter], [root], "foo_bar.example.com", False)

    # trust anchors that are not self-signed
    add("anchor-is-intermediate", pki.leaf("example.com"), [], [inter], "example.com", False)
    other = make_cert("Oracle Other Root", ca=True, end=NOW + 3650 * DAY)
    cross = make_cert("Oracle Root", issuer=other, ca=True, key=root.key, omit=[x509.AuthorityKeyIdentifier])
    add("anchor-cross-sign-without-aki", pki.leaf("example.com"), [inter], [cross], "example.com", False)
    stray = new_key()
    aki_mismatch = make_cert("Oracle Root", ca=True, key=root.key, end=NOW + 3650 * DAY, extensions=[
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(stray.public_key()), False)])
    add("anchor-aki-mismatch", pki.leaf("example.com"), [inter], [aki_mismatch], "example.com", False)
    add("anchors-swapped", pki.leaf("example.com"), [root], [inter], "example.com", False)

    # RSA leaf without keyEncipherment: NSS's built-in check refuses, Firefox accepts
    add("rsa-ku-without-key-encipherment",
        pki.leaf("example.com", key_kind="rsa", extensions=[(leaf_ku(key_encipherment=False), True)]),
        [inter], [root], "example.com", True, warns="nss")

    # a first candidate issuer that leads nowhere
    constrained = make_cert("Oracle Intermediate", issuer=root, ca=True, key=inter.key, extensions=[
        (x509.NameConstraints(permitted_subtrees=None, excluded_subtrees=[x509.DNSName("example.com")]), True)])
    leaf = pki.leaf("example.com")
    add("constrained-candidate-first", leaf, [constrained, inter], [root], "example.com", False)
    add("constrained-candidate-last", leaf, [inter, constrained], [root], "example.com", False)
    dead_end = make_cert("Oracle Intermediate", issuer_name="Oracle Nowhere", ca=True, key=inter.key,
                         omit=[x509.AuthorityKeyIdentifier])
    add("dead-end-issuer-last", leaf, [inter, dead_end], [root], "example.com", False)
    add("dead-end-issuer-first", leaf, [dead_end, inter], [root], "example.com", False)

    # the exact notAfter second
    end = (NOW + 30 * DAY).replace(microsecond=0)
    add("not-after-exact-second", pki.leaf("example.com", end=end), [inter], [root], "example.com", False,
        when=end)
    add("not-after-one-second-before", pki.leaf("example.com", end=end), [inter], [root], "example.com",
        True, when=end - datetime.timedelta(seconds=1))

    # name constraints
    other_nc = make_cert("Oracle ON Intermediate", issuer=root, ca=True,
                         extensions=[(_other_name_nc(), True)])
    add("other-name-constraint", make_cert("example.com", issuer=other_nc, sans=["example.com"]),
        [other_nc], [root], "example.com", True, warns="gnutls")
    upn_nc = make_cert("Oracle UPN Intermediate", issuer=root, ca=True, extensions=[
        (_other_name_nc("1.3.6.1.4.1.311.20.2.3", b"\x0c\x0bexample.com"), True)])
    add("upn-name-constraint", make_cert("example.com", issuer=upn_nc, sans=["example.com"]),
        [upn_nc], [root], "example.com", True)
    dot = make_cert("Oracle Dot Intermediate", issuer=root, ca=True, extensions=[(x509.NameConstraints(
        permitted_subtrees=[x509.DNSName(".example.com")], excluded_subtrees=None), True)])
    add("nc-leading-period", make_cert("www.example.com", issuer=dot, sans=["www.example.com"]),
        [dot], [root], "www.example.com", True)
    permitted = make_cert("Oracle Permitted Intermediate", issuer=root, ca=True, extensions=[(x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None), True)])
    add("nc-permitted-underscore-san",
        make_cert("www.example.com", issuer=permitted, sans=["www.example.com", "foo_bar.example.com"]),
        [permitted], [root], "www.example.com", True)
    excluding = make_cert("Oracle Excluding Intermediate", issuer=root, ca=True, extensions=[(x509.NameConstraints(
        permitted_subtrees=None, excluded_subtrees=[x509.DNSName("bad.example.com")]), True)])
    add("wildcard-into-excluded-subtree", make_cert("example.com", issuer=excluding, sans=["*.example.com"]),
        [excluding], [root], "www.example.com", False)
    # shapes cryptography's parser refuses and the clients read: the built-in engine decides
    for label, value in (("nc-without-subtrees", "3000"), ("nc-empty-permitted", "3002a000"),
                         ("nc-empty-excluded", "3002a100")):
        raw = x509.UnrecognizedExtension(ExtensionOID.NAME_CONSTRAINTS, bytes.fromhex(value))
        ca = make_cert(f"Oracle {label}", issuer=root, ca=True, extensions=[(raw, True)])
        add(label, make_cert("example.com", issuer=ca, sans=["example.com"]), [ca], [root], "example.com", True)
    for label, value in (("aia-truncated", "3005300306012a"), ("aia-not-a-sequence", "0500")):
        raw = x509.UnrecognizedExtension(ExtensionOID.AUTHORITY_INFORMATION_ACCESS, bytes.fromhex(value))
        add(label, pki.leaf("example.com", extensions=[(raw, False)]), [inter], [root], "example.com", True)
    add("nc-permitted-outside", make_cert("www.example.org", issuer=permitted, sans=["www.example.org"]),
        [permitted], [root], "www.example.org", False)

    # a self-issued intermediate below a root with pathLenConstraint 0
    root0 = make_cert("Oracle PL Root", ca=True, end=NOW + 3650 * DAY, extensions=[
        (x509.BasicConstraints(ca=True, path_length=0), True)])
    self_issued = make_cert("Oracle PL Root", issuer=root0, ca=True)
    add("self-issued-under-pathlen-0", make_cert("example.com", issuer=self_issued, sans=["example.com"]),
        [self_issued], [root0], "example.com", False)

    # the deliberate refusals that generated certificates can show (docs/verification-policy.rst)
    add("cn-only-leaf", make_cert("example.com", issuer=inter), [inter], [root], "example.com", False)
    add("critical-eku", pki.leaf("example.com", extensions=[
        (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), True)]), [inter], [root], "example.com", False)
    add("leaf-name-constraints", pki.leaf("example.com", extensions=[(x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("example.com")], excluded_subtrees=None), False)]),
        [inter], [root], "example.com", False)
    return tuple(out)


DELIBERATE = {
    # case name -> (reason, reference); the gate refuses these although every client here accepts
    "wildcard-public-suffix": ("a wildcard over a public suffix covers registrations of many owners",
                               "Chrome X509Certificate::VerifyHostname (registry-controlled domains); "
                               "CA/B Forum BR §3.2.2.6"),
    "wildcard-into-excluded-subtree": ("*.example.com can name bad.example.com, which the CA may not certify",
                                      "RFC 5280 §4.2.1.10; CVE-2025-61727 (Go crypto/x509 fixed the same gap)"),
    "cn-only-leaf": ("names only in the subject CN", "Chrome 58 and Firefox 48 match only the SAN; "
                     "CA/B Forum BR §7.1.2.7.12"),
    "critical-eku": ("a critical extendedKeyUsage in a subscriber certificate", "CA/B Forum BR §7.1.2.7.10"),
    "leaf-name-constraints": ("nameConstraints in an end-entity certificate",
                              "RFC 5280 §4.2.1.10 (CAs only); CA/B Forum BR §7.1.2.7"),
}


# The deliberate refusals by what the gate says, for cases without a name of ours (x509-limbo):
# (check, words in the message, reason, reference).  A refusal every client overrules is
# deliberate when each of its errors matches one of these.
DELIBERATE_FINDINGS = (
    ("profile", "carries nameConstraints", "nameConstraints in an end-entity certificate",
     "RFC 5280 §4.2.1.10; CA/B Forum BR §7.1.2.7"),
    ("profile", "serial number of", "a serial number over 20 octets", "RFC 5280 §4.1.2.2; CA/B Forum BR §7.1"),
    ("profile", "authorityKeyIdentifier without keyIdentifier", "a CA's AKI without keyIdentifier",
     "CA/B Forum BR §7.1.2.1.3"),
    ("profile", "must not mark extendedKeyUsage critical", "a critical EKU", "CA/B Forum BR §7.1.2.7.10"),
    ("profile", "subjectAltName must not be critical", "a critical SAN with a non-empty subject",
     "RFC 5280 §4.2.1.6; CA/B Forum BR §7.1.2.7.12"),
    ("profile", "is not an X.509 v3 certificate", "X.509 v1 certificates", "CA/B Forum BR §7.1.1"),
    ("profile", "lacks the required authorityKeyIdentifier", "X.509 v1 certificates (a v1 leaf has no AKI)",
     "CA/B Forum BR §7.1.1, §7.1.2.7.7"),
    ("signature-algorithm", "2.16.840.1.101.3.4.3.", "DSA signatures",
     "CA/B Forum BR §7.1.3.2 (RSA and ECDSA only); Mozilla Root Store Policy §5.1"),
    ("names", "no subjectAltName", "names only in the subject CN",
     "Chrome 58, Firefox 48 (SAN only); CA/B Forum BR §7.1.2.7.12"),
    ("profile", "lacks the required subjectAltName", "names only in the subject CN",
     "Chrome 58, Firefox 48 (SAN only); CA/B Forum BR §7.1.2.7.12"),
    ("key-type", "", "DSA keys", "CA/B Forum BR §6.1.5 (RSA and ECDSA only); Mozilla Root Store Policy §5.1"),
    ("weak-key", "DSA", "DSA keys", "CA/B Forum BR §6.1.5; Mozilla Root Store Policy §5.1"),
    ("name-constraints", "excluded subtree", "a wildcard SAN that can expand into an excluded subtree",
     "RFC 5280 §4.2.1.10; CVE-2025-61727"),
    ("names", "wildcard over the public suffix", "a wildcard over a public suffix",
     "Chrome X509Certificate::VerifyHostname; CA/B Forum BR §3.2.2.6"),
    ("chain", "wrong order", "chain order in a certbot lineage", "RFC 8446 §4.4.2 (older clients need it)"),
)


def deliberate_reason(findings) -> str | None:
    """The deliberate-refusal reason that covers every error in ``findings``, or None."""
    errors = [f for f in findings if f.severity.value == "error"]
    reasons = []
    for error in errors:
        hit = next((r for check, words, r, _ in DELIBERATE_FINDINGS
                    if error.check == check and words in error.message), None)
        if hit is None:
            return None
        reasons.append(hit)
    return "; ".join(sorted(set(reasons))) if reasons else None
