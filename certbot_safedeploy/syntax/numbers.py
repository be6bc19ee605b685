"""Whole numbers written as text by someone else (pure).

``str.isdigit()`` accepts ``"²"`` and ``int()`` accepts ``"٣"``, ``" 7 "`` and
``"1_000"``; neither bounds the size.  Every number read from outside input (the
config, renewal configs, ``CERTBOT_*`` variables, ports, protocol replies) goes
through :func:`parse_decimal`, which takes ASCII digits only, within a range.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,20}", re.ASCII)


def is_decimal(text: str) -> bool:
    """True for 1 to 20 ASCII digits and nothing else."""
    return isinstance(text, str) and _DIGITS.fullmatch(text) is not None


def parse_decimal(text: str, low: int = 0, high: int = 2**63 - 1) -> int | None:
    """``text`` as an int when it is ASCII digits with ``low <= value <= high``, else None."""
    if not is_decimal(text):
        return None
    value = int(text)
    return value if low <= value <= high else None


def parse_port(text: str) -> int | None:
    """A TCP/UDP port 1-65535 written in ASCII digits, else None."""
    return parse_decimal(text, 1, 65535)


def decimal_bytes(data: bytes) -> int | None:
    """A protocol field of ASCII digits (e.g. an SMTP reply code) as an int, else None."""
    try:
        return parse_decimal(data.decode("ascii"))
    except UnicodeDecodeError:
        return None
