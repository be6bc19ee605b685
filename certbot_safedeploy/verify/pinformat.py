"""The text form of an RFC 7469 pin (pure, no cryptography import: the config parser uses it).

A pin is ``sha256/`` followed by the base64 of a SHA-256 digest (RFC 7469 §2.4);
``pin-sha256="..."``, the header form of §2.1, is accepted too.
"""

from __future__ import annotations

import base64
import binascii

PREFIX = "sha256/"


class PinFormatError(ValueError):
    """A pin string is not ``sha256/`` + base64 of 32 bytes."""


def normalize_pin(pin: str) -> str:
    """Validate a pin, accepting RFC 7469's ``pin-sha256="..."`` form too."""
    text = pin.strip()
    if text.startswith("pin-sha256="):
        text = PREFIX + text[len("pin-sha256=") :].strip('"')
    if not text.startswith(PREFIX):
        raise PinFormatError(f"pin {pin!r} does not start with {PREFIX!r}")
    try:
        digest = base64.b64decode(text[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise PinFormatError(f"pin {pin!r} is not valid base64") from None
    if len(digest) != 32:
        raise PinFormatError(f"pin {pin!r} is {len(digest)} bytes, a SHA-256 is 32")
    return text
