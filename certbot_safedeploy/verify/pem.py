"""Strict PEM parsing (RFC 7468) that names what is wrong with a file.

certbot writes exactly one certificate to ``cert.pem``, one or more to ``chain.pem``,
both concatenated to ``fullchain.pem`` and one unencrypted private key to
``privkey.pem``.  Anything else (an empty file from a failed redirect, DER, an HTML
error page, a truncated download, an encrypted key) is refused by name.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re

_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END ([A-Z0-9 ]+)-----\r?\n?", re.S
)
_BEGIN = re.compile(rb"-----BEGIN [A-Z0-9 ]+-----")
_HEADER = re.compile(rb"^[A-Za-z-]+:.*$", re.M)

CERTIFICATE = "CERTIFICATE"
PRIVATE_KEY_LABELS = frozenset({"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"})
ENCRYPTED_LABELS = frozenset({"ENCRYPTED PRIVATE KEY"})


class PemFormatError(ValueError):
    """The bytes are not the PEM the caller expects; ``fix`` says what to do."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


@dataclasses.dataclass(frozen=True)
class PemBlock:
    label: str
    der: bytes
    text: bytes  # the whole block, BEGIN to END, with a trailing newline

    @property
    def is_private_key(self) -> bool:
        return self.label in PRIVATE_KEY_LABELS


def _sniff(data: bytes) -> None:
    """Refuse the common non-PEM contents with a precise reason."""
    stripped = data.strip()
    if not stripped:
        raise PemFormatError(
            "file is empty", "the issuing step failed; re-run certbot and check its log"
        )
    if stripped[:1] == b"\x30":
        raise PemFormatError(
            "file is DER (binary), not PEM",
            "store it as PEM (base64 between -----BEGIN/END----- lines)",
        )
    head = stripped[:512].lower()
    if b"<html" in head or b"<!doctype" in head or b"<head" in head:
        raise PemFormatError(
            "file is an HTML page (an HTTP error page saved as a certificate?)",
            "fetch the certificate again and check the HTTP status before saving",
        )


def parse_blocks(data: bytes) -> list[PemBlock]:
    """Split ``data`` into PEM blocks, refusing anything that is not clean PEM."""
    _sniff(data)
    blocks: list[PemBlock] = []
    position = 0
    for match in _BLOCK.finditer(data):
        outside = data[position : match.start()]
        if outside.strip():
            raise PemFormatError(
                "unexpected data outside PEM blocks",
                "remove everything that is not a -----BEGIN/END----- block",
            )
        position = match.end()
        label, body, end_label = match.group(1), match.group(2), match.group(3)
        if label != end_label:
            raise PemFormatError(
                f"BEGIN {label.decode()} closed by END {end_label.decode()}",
                "the file was spliced together; fetch it again",
            )
        name = label.decode("ascii")
        if name in ENCRYPTED_LABELS or b"Proc-Type: 4,ENCRYPTED" in body:
            raise PemFormatError(
                "private key is encrypted",
                "services cannot read it unattended; store the key unencrypted, mode 0600",
            )
        if _BEGIN.search(body):
            raise PemFormatError(
                "truncated PEM block (BEGIN without END)", "fetch the file again"
            )
        b64 = _HEADER.sub(b"", body)
        try:
            der = base64.b64decode(b"".join(b64.split()), validate=True)
        except (binascii.Error, ValueError):
            raise PemFormatError(
                f"corrupt base64 in {name} block", "fetch the file again"
            ) from None
        if not der:
            raise PemFormatError(f"empty {name} block", "fetch the file again")
        text = data[match.start() : match.end()]
        if not text.endswith(b"\n"):
            text += b"\n"
        blocks.append(PemBlock(name, der, text))
    rest = data[position:]
    if _BEGIN.search(rest):
        raise PemFormatError(
            "truncated PEM (BEGIN without END)",
            "the write was interrupted; fetch or re-issue the file",
        )
    if rest.strip():
        raise PemFormatError(
            "unexpected data outside PEM blocks" if blocks else "no PEM block found",
            "the file must hold only -----BEGIN/END----- blocks",
        )
    return blocks


def expect_certificates(data: bytes, *, exactly: int | None = None, at_least: int = 1) -> list[PemBlock]:
    """Parse ``data`` as certificates only, with a count constraint."""
    blocks = parse_blocks(data)
    others = sorted({b.label for b in blocks if b.label != CERTIFICATE})
    if others:
        raise PemFormatError(
            f"holds {', '.join(others)} where only CERTIFICATE blocks belong",
            "keep keys and certificates in separate files",
        )
    if exactly is not None and len(blocks) != exactly:
        raise PemFormatError(
            f"holds {len(blocks)} certificates, expected exactly {exactly}",
            "certbot writes one leaf certificate here; restore it from archive/",
        )
    if len(blocks) < at_least:
        raise PemFormatError(
            f"holds {len(blocks)} certificates, expected at least {at_least}",
            "the chain is missing; re-issue or restore it from archive/",
        )
    return blocks


def expect_private_key(data: bytes) -> PemBlock:
    """Parse ``data`` as exactly one unencrypted private key."""
    blocks = parse_blocks(data)
    keys = [b for b in blocks if b.is_private_key]
    if len(blocks) != 1 or len(keys) != 1:
        labels = ", ".join(b.label for b in blocks)
        raise PemFormatError(
            f"expected exactly one private key, found: {labels}",
            "privkey.pem must hold only the private key",
        )
    return keys[0]
