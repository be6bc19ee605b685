"""A minimal DER reader for the few raw fields cryptography does not expose on every
release: the serial's encoded length, the SubjectPublicKeyInfo algorithm
parameters (named vs explicit curve) and both copies of the signature algorithm
(RFC 5280 §4.1.1.2 requires them equal).  Bounded and exception-safe: malformed
input raises :class:`~.certinfo.Malformed`.
"""

from __future__ import annotations

import dataclasses

from cryptography import x509

from certbot_safedeploy.verify.certinfo import Malformed, der

EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, value, next position) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise Malformed("truncated DER")
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise Malformed("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise Malformed("truncated DER")
    return tag, data[pos : pos + length], pos + length


def _children(value: bytes) -> list[tuple[int, bytes]]:
    items, pos = [], 0
    while pos < len(value):
        tag, inner, pos = _tlv(value, pos)
        items.append((tag, inner))
        if len(items) > 64:
            raise Malformed("too many DER elements")
    return items


@dataclasses.dataclass(frozen=True)
class RawFields:
    serial: bytes  # the INTEGER's content octets
    tbs_signature: bytes  # AlgorithmIdentifier inside tbsCertificate, content octets
    outer_signature: bytes  # signatureAlgorithm outside it
    explicit_curve: bool  # an EC key with explicit (not namedCurve) parameters


def raw_fields(cert: x509.Certificate) -> RawFields:
    outer = _children(_tlv(der(cert), 0)[1])
    if len(outer) != 3:
        raise Malformed("a certificate is three elements (RFC 5280 §4.1)")
    tbs = _children(outer[0][1])
    if tbs and tbs[0][0] == 0xA0:  # [0] version
        tbs = tbs[1:]
    if len(tbs) < 6:
        raise Malformed("tbsCertificate is too short")
    spki_alg = _children(_children(tbs[5][1])[0][1])
    explicit = (len(spki_alg) > 1 and spki_alg[0][1] == EC_PUBLIC_KEY and spki_alg[1][0] != 0x06)
    return RawFields(tbs[0][1], tbs[1][1], outer[1][1], explicit)
