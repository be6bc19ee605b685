"""The path a client that does not backtrack builds (RFC 4158 §2.4, OpenSSL's ``build_chain``).

Both engines search every candidate issuer until a path validates.  OpenSSL and
GnuTLS do not: at each step they take one issuer (a trust anchor first, else the
first certificate of the pool with the right subject and key identifier,
preferring one valid now) and refuse if that path fails.  NSS looks issuers up
by subject and was seen to take the last one sent.  :func:`first_choices`
builds the path such a client takes, for the pool in the order sent and in
reverse, so that :mod:`.path` can refuse a pool in which one of them fails and
name the certificate to drop.
"""

from __future__ import annotations

import datetime
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.verify import certinfo
from certbot_safedeploy.verify.certinfo import Malformed
from certbot_safedeploy.verify.chain import TrustStore

MAX_DEPTH = 10


def _key_ids_match(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """RFC 5280 §4.2.1.1: the AKI keyIdentifier, when both carry one, is the issuer's SKI."""
    aki = certinfo.extension(cert, x509.AuthorityKeyIdentifier)
    ski = certinfo.extension(issuer, x509.SubjectKeyIdentifier)
    if aki is None or ski is None or aki.value.key_identifier is None:
        return True
    return aki.value.key_identifier == ski.value.digest


def _valid_at(cert: x509.Certificate, now: datetime.datetime) -> bool:
    return certinfo.not_before(cert) <= now < certinfo.not_after(cert)


def _candidates(cert: x509.Certificate, certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    issuer = certinfo.issuer_der(cert)
    return [c for c in certs if certinfo.subject_der(c) == issuer and _key_ids_match(cert, c)]


def first_choices(leaf: x509.Certificate, pool: Sequence[x509.Certificate], trust: TrustStore,
                  now: datetime.datetime) -> list[x509.Certificate]:
    """The pool certificates a non-backtracking client puts on its path, in path order.

    The walk stops at a trust anchor (taken before any pool certificate, as
    OpenSSL's default ``X509_V_FLAG_TRUSTED_FIRST`` does) or where no issuer is found.
    """
    picked: list[x509.Certificate] = []
    cert = leaf
    try:
        for _ in range(MAX_DEPTH):
            if _candidates(cert, trust.anchors):
                break
            seen = {certinfo.der(c) for c in [leaf, *picked]}
            options = [c for c in _candidates(cert, pool) if certinfo.der(c) not in seen]
            if not options:
                break
            current = [c for c in options if _valid_at(c, now)]
            cert = (current or options)[0]
            picked.append(cert)
    except Malformed:
        pass
    return picked
