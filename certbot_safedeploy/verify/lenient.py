"""Extensions as OpenSSL, GnuTLS and NSS read them, where cryptography refuses to parse them.

cryptography parses a certificate's extensions all at once and refuses the whole
list for shapes the clients pass over:

* nameConstraints with an empty ``permittedSubtrees`` or ``excludedSubtrees``
  (RFC 5280 §4.2.1.10 says SIZE (1..MAX)), or with neither: an empty list
  constrains nothing, and the clients read it so;
* an authorityInfoAccess they cannot parse: clients use it only to fetch a
  missing issuer or OCSP, never to decide a path offline, and ignore it.

:func:`read` then reads each extension on its own with cryptography (by loading a
copy of the certificate that carries only that extension; signatures are not
checked when loading) and repairs or drops only those two.  Any other refusal
stands: the result is None and the caller reports the certificate as malformed.
"""

from __future__ import annotations

import functools

from cryptography import x509

NAME_CONSTRAINTS = bytes.fromhex("551d1e")  # 2.5.29.30
AUTHORITY_INFO_ACCESS = bytes.fromhex("2b06010505070101")  # 1.3.6.1.5.5.7.1.1
MAX_ELEMENTS = 256


class _Bad(Exception):
    """Not DER we can walk."""


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of value, end of element) of the element at ``pos``."""
    if pos + 2 > len(data):
        raise _Bad()
    tag, length = data[pos], data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise _Bad()
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise _Bad()
    return tag, pos, pos + length


def _elements(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """(tag, content, whole element) of each element in ``data``."""
    out, pos = [], 0
    while pos < len(data):
        tag, start, end = _tlv(data, pos)
        out.append((tag, data[start:end], data[pos:end]))
        pos = end
        if len(out) > MAX_ELEMENTS:
            raise _Bad()
    return out


def _encode(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


class _Layout:
    """The certificate split around its extensions, to build one-extension copies."""

    def __init__(self, der: bytes) -> None:
        [(_, cert_body, _)] = _elements(der)
        parts = _elements(cert_body)
        if len(parts) != 3:
            raise _Bad()
        self.tail = parts[1][2] + parts[2][2]  # signatureAlgorithm, signature (unchecked on load)
        tbs = _elements(parts[0][1])
        self.head = b"".join(whole for tag, _, whole in tbs if tag != 0xA3)
        found = [content for tag, content, _ in tbs if tag == 0xA3]
        if len(found) != 1:
            raise _Bad()
        [(_, extension_list, _)] = _elements(found[0])
        self.extensions = [whole for _, _, whole in _elements(extension_list)]

    def parse_one(self, extension: bytes) -> x509.Extension[x509.ExtensionType]:
        tbs = _encode(0x30, self.head + _encode(0xA3, _encode(0x30, extension)))
        copy = x509.load_der_x509_certificate(_encode(0x30, tbs + self.tail))
        parsed: list[x509.Extension[x509.ExtensionType]] = list(copy.extensions)
        return parsed[0]


def _parts(extension: bytes) -> tuple[bytes, bool, bytes]:
    """(OID content, critical, extnValue content) of an Extension."""
    [(_, body, _)] = _elements(extension)
    items = _elements(body)
    if len(items) == 2:
        (t1, oid, _), (t3, value, _) = items
        critical = False
    elif len(items) == 3:
        (t1, oid, _), (_, flag, _), (t3, value, _) = items
        critical = flag not in (b"", b"\x00")
    else:
        raise _Bad()
    if t1 != 0x06 or t3 != 0x04:
        raise _Bad()
    return oid, critical, value


def _without_empty_subtrees(oid: bytes, critical: bool, value: bytes) -> bytes | None:
    """The nameConstraints extension re-encoded without empty subtree lists; None when nothing is left."""
    [(tag, body, _)] = _elements(value)
    if tag != 0x30:
        raise _Bad()
    kept = b"".join(whole for tag, content, whole in _elements(body) if tag in (0xA0, 0xA1) and content)
    if not kept:
        return None
    inner = _encode(0x06, oid) + (b"\x01\x01\xff" if critical else b"") + _encode(0x04, _encode(0x30, kept))
    return _encode(0x30, inner)


@functools.lru_cache(maxsize=256)
def read(cert: x509.Certificate) -> tuple[x509.Extensions, tuple[str, ...]] | None:
    """(the extensions as clients read them, what was repaired) or None when clients refuse too."""
    from cryptography.hazmat.primitives import serialization

    try:
        layout = _Layout(cert.public_bytes(serialization.Encoding.DER))
        kept: list[x509.Extension[x509.ExtensionType]] = []
        notes: list[str] = []
        seen: set[bytes] = set()
        for extension in layout.extensions:
            oid, critical, value = _parts(extension)
            if oid in seen:
                return None  # a duplicate: clients refuse it (RFC 5280 §4.2)
            seen.add(oid)
            try:
                kept.append(layout.parse_one(extension))
                continue
            except Exception:  # noqa: BLE001 - cryptography refuses this one extension
                pass
            if oid == AUTHORITY_INFO_ACCESS and not critical:
                notes.append("an unparsable authorityInfoAccess, which clients ignore")
            elif oid == NAME_CONSTRAINTS:
                repaired = _without_empty_subtrees(oid, critical, value)
                if repaired is not None:
                    kept.append(layout.parse_one(repaired))
                notes.append("nameConstraints with an empty subtree list, which constrains nothing")
            else:
                return None
        return x509.Extensions(kept), tuple(notes)
    except Exception:  # noqa: BLE001 - _Bad, ValueError: malformed beyond what clients read
        return None
