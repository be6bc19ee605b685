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


EXTENSION_REQUEST = bytes.fromhex("2a864886f70d01090e")  # 1.2.840.113549.1.9.14 (RFC 2985 §5.4.2)


def csr_extension_requests(data: bytes) -> list[list[bytes]]:
    """The extension OIDs of every extensionRequest value of a DER CSR (RFC 2986 §4.1), in order.

    cryptography reads only the first extensionRequest; a CSR that hides a second one (another
    subjectAltName list) must be seen whole before it goes to a CA.
    """
    tag, body, end = _tlv(data, 0)
    if tag != 0x30 or end != len(data):
        raise Malformed("a CSR is one DER SEQUENCE")
    outer = _children(body)
    if len(outer) != 3 or outer[0][0] != 0x30:
        raise Malformed("a CSR is three elements (RFC 2986 §4.2)")
    attributes = [value for tag, value in _children(outer[0][1]) if tag == 0xA0]
    if len(attributes) > 1:
        raise Malformed("the CSR has two attribute sets")
    requests: list[list[bytes]] = []
    for tag, attribute in _children(attributes[0]) if attributes else []:
        parts = _children(attribute)
        if tag != 0x30 or len(parts) != 2 or parts[0][0] != 0x06 or parts[1][0] != 0x31:
            raise Malformed("a CSR attribute is an OID and a SET of values")
        if parts[0][1] != EXTENSION_REQUEST:
            continue
        for ext_tag, extensions in _children(parts[1][1]):
            if ext_tag != 0x30:
                raise Malformed("an extensionRequest value is a SEQUENCE of extensions")
            oids = []
            for one_tag, extension in _children(extensions):
                fields = _children(extension)
                if one_tag != 0x30 or not fields or fields[0][0] != 0x06:
                    raise Malformed("an extension starts with its OID")
                oids.append(fields[0][1])
            requests.append(oids)
    return requests
