"""Structure-aware mutators for the fuzz suite (pure: a ``random.Random`` and bytes in, bytes out).

Each mutator knows one shape a parser meets: DER (tag and length flips), PEM
(label and base64 damage), TOML (type swaps, deep nesting), text in general
(Unicode digits, NUL, huge values, CRLF).  :func:`mutate` picks a few at random.
"""

from __future__ import annotations

import base64
import random
import re
from typing import Callable, List

Mutator = Callable[[random.Random, bytes], bytes]

UNICODE_DIGITS = ["²", "³", "¹", "٣", "۷", "०", "১", "௫", "𝟘", "①", "Ⅻ", "⁰", "₉", "٫", "²²⁰"]
ODD_TEXT = ["\x00", "\r", "\n", "\u2028", "\ufeff", "\udcff", "\\", '"', "'", "..", "/", "%n", "${x}",
            "\u202e", "é", "\x7f", " ", "\t", "-", "_", "=", "[", "]", "{", "}", "#", "*"]
HUGE_NUMBERS = [b"9" * 40, b"9" * 5000, b"-1", b"0", b"65536", b"4294967296", b"1e308", b"inf", b"nan",
                b"18446744073709551616", b"0x10", b"1_0", b"+1", b" 1", b"00000000000000000000001"]


def _pos(rng: random.Random, data: bytes) -> int:
    return rng.randrange(len(data) + 1)


def flip_byte(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return bytes([rng.randrange(256)])
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]


def set_byte(rng: random.Random, data: bytes) -> bytes:
    if not data:
        return data
    i = rng.randrange(len(data))
    return data[:i] + bytes([rng.choice([0, 0x7F, 0x80, 0xFF, rng.randrange(256)])]) + data[i + 1:]


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[:_pos(rng, data)]


def delete_span(rng: random.Random, data: bytes) -> bytes:
    i = _pos(rng, data)
    return data[:i] + data[i + rng.randrange(1, 64):]


def duplicate_span(rng: random.Random, data: bytes) -> bytes:
    i = _pos(rng, data)
    span = data[i:i + rng.randrange(1, 256)]
    return data[:i] + span * rng.randrange(2, 8) + data[i:]


def insert_odd(rng: random.Random, data: bytes) -> bytes:
    i = _pos(rng, data)
    text = rng.choice(ODD_TEXT + UNICODE_DIGITS).encode("utf-8", "surrogateescape")
    return data[:i] + text + data[i:]


def unicode_digits(rng: random.Random, data: bytes) -> bytes:
    """Replace a run of ASCII digits with digits ``isdigit()`` accepts and ``int()`` may not."""
    runs = [m.span() for m in re.finditer(rb"[0-9]+", data)]
    if not runs:
        return insert_odd(rng, data)
    a, b = rng.choice(runs)
    return data[:a] + rng.choice(UNICODE_DIGITS).encode() * rng.randrange(1, 4) + data[b:]


def huge_number(rng: random.Random, data: bytes) -> bytes:
    runs = [m.span() for m in re.finditer(rb"[0-9]+", data)]
    if not runs:
        return data + rng.choice(HUGE_NUMBERS)
    a, b = rng.choice(runs)
    return data[:a] + rng.choice(HUGE_NUMBERS) + data[b:]


def der_length(rng: random.Random, data: bytes) -> bytes:
    """Rewrite one DER length octet: short/long form, indefinite, huge, off by one."""
    candidates = [i for i in range(len(data) - 1) if data[i] in (0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06,
                                                                0x0C, 0x13, 0x16, 0x17, 0x18, 0x80, 0x82,
                                                                0xA0, 0xA3)]
    if not candidates:
        return flip_byte(rng, data)
    i = rng.choice(candidates) + 1
    choice = rng.randrange(6)
    new = {0: bytes([0x80]), 1: bytes([0x84, 0xFF, 0xFF, 0xFF, 0xFF]), 2: bytes([0x81, 0x00]),
           3: bytes([(data[i] + 1) & 0xFF]), 4: bytes([(data[i] - 1) & 0xFF]), 5: bytes([0x89]) + b"\xff" * 9}[choice]
    return data[:i] + new + data[i + 1:]


def der_tag(rng: random.Random, data: bytes) -> bytes:
    """Swap one likely tag octet for another universal or context tag."""
    candidates = [i for i, c in enumerate(data) if c in (0x30, 0x31, 0x02, 0x03, 0x04, 0x06, 0x0C, 0x13, 0x17,
                                                         0x18, 0x80, 0x82, 0x86, 0x87, 0xA0, 0xA3)]
    if not candidates:
        return flip_byte(rng, data)
    i = rng.choice(candidates)
    return data[:i] + bytes([rng.choice([0x00, 0x01, 0x05, 0x1F, 0x30, 0x31, 0x24, 0x9F, 0xBF, 0xFF, 0x17, 0x18])]) \
        + data[i + 1:]


_PEM = re.compile(rb"(-----BEGIN ([^-]*)-----\r?\n)(.*?)(-----END \2-----)", re.S)


def pem_damage(rng: random.Random, data: bytes) -> bytes:
    """Damage a PEM block: its label, its base64, its lines, or the DER inside."""
    blocks = list(_PEM.finditer(data))
    if not blocks:
        return insert_odd(rng, data)
    m = rng.choice(blocks)
    head, label, body, tail = m.group(1), m.group(2), m.group(3), m.group(4)
    choice = rng.randrange(8)
    if choice == 0:
        head = head.replace(label, rng.choice([b"CERTIFICATE", b"PRIVATE KEY", b"EC PRIVATE KEY", b"RSA PRIVATE KEY",
                                               b"CERTIFICATE REQUEST", b"PUBLIC KEY", b"X509 CRL", b"",
                                               b"ENCRYPTED PRIVATE KEY", b"TRUSTED CERTIFICATE"]))
    elif choice == 1:
        tail = tail.replace(label, label + b"X")
    elif choice == 2:
        body = body.replace(b"\n", b"\r\n")
    elif choice == 3:
        lines = body.split(b"\n")
        if lines:
            lines.pop(rng.randrange(len(lines)))
        body = b"\n".join(lines)
    elif choice == 4:
        i = _pos(rng, body)
        body = body[:i] + rng.choice([b"=", b"!", b"\x00", b" ", b"-", b"==\n", "é".encode()]) + body[i:]
    else:
        try:
            der = base64.b64decode(b"".join(body.split()))
        except ValueError:
            der = body
        der = rng.choice([der_length, der_tag, flip_byte, truncate, duplicate_span])(rng, der)
        encoded = base64.encodebytes(der)
        body = encoded
    return data[:m.start()] + head + body + tail + data[m.end():]


_TOML_VALUE = re.compile(rb'(=\s*)("(?:[^"\\\n]|\\.)*"|\[[^\]\n]*\]|\{[^}\n]*\}|[0-9.+-]+|true|false)')
# The value pattern is quadratic when run over a deeply nested line, so it is never run over a
# whole text: a few ``=`` signs in the first 64 KiB are sampled, and the pattern is matched at each
# one with its end bounded (linear in the text, whatever the nesting).
_SCAN = 1 << 16
_VALUE_SPAN = 1 << 13
_SAMPLE = 16


def _toml_values(rng: random.Random, data: bytes) -> "List[re.Match[bytes]]":
    """Up to a few ``key = value`` values of ``data``, at random ``=`` signs in its first 64 KiB."""
    signs = [m.start() for m in re.finditer(rb"=", data, 0)] if len(data) <= _SCAN else \
        [m.start() for m in re.finditer(rb"=", data[:_SCAN])]
    if len(signs) > _SAMPLE:
        signs = rng.sample(signs, _SAMPLE)
    found = []
    for at in signs:
        m = _TOML_VALUE.match(data, at, min(len(data), at + _VALUE_SPAN))
        if m:
            found.append(m)
    return found


TOML_SWAPS = [b'""', b'"x"', b"0", b"-1", b"1.5", b"true", b"[]", b"{}", b'["a", 1]', b"[[1]]", b'{ a = 1 }',
              b'"\\u0000"', b'"/"', '"0²"'.encode(), '"²"'.encode(), '"٣"'.encode(), b'"' + b"a" * 5000 + b'"', b"1979-05-27T07:32:00Z",
              b"inf", b"nan", b"99999999999999999999", b'"../x"', b'"root\\n"']


def toml_swap(rng: random.Random, data: bytes) -> bytes:
    """Replace one value with a value of another type."""
    values = _toml_values(rng, data)
    if not values:
        return toml_nest(rng, data)
    m = rng.choice(values)
    return data[:m.start(2)] + rng.choice(TOML_SWAPS) + data[m.end(2):]


def toml_nest(rng: random.Random, data: bytes) -> bytes:
    """Deep nesting: arrays, inline tables or dotted keys thousands deep."""
    depth = rng.choice([33, 100, 1000, 5000, 30000])
    kind = rng.randrange(3)
    if kind == 0:
        value = b"[" * depth + b"]" * depth
    elif kind == 1:
        value = b"{a=" * depth + b"1" + b"}" * depth
    else:
        return data + b"\nx" + b".a" * min(depth, 2000) + b" = 1\n"
    values = _toml_values(rng, data)
    if values and rng.randrange(2):
        m = rng.choice(values)
        return data[:m.start(2)] + value + data[m.end(2):]
    return data + b"\ndeep = " + value + b"\n"


def toml_key(rng: random.Random, data: bytes) -> bytes:
    """Rename a key, duplicate a table header, or add an unknown key."""
    choice = rng.randrange(3)
    if choice == 0:
        keys = list(re.finditer(rb"^(\s*)([A-Za-z_]+)(\s*=)", data, re.M))
        if keys:
            m = rng.choice(keys)
            return data[:m.start(2)] + rng.choice([b"x", m.group(2) + b"_", b'"' + m.group(2) + b'"',
                                                   m.group(2).upper()]) + data[m.end(2):]
    if choice == 1:
        headers = list(re.finditer(rb"^\[\[?[^\]\n]+\]\]?\n", data, re.M))
        if headers:
            m = rng.choice(headers)
            return data + b"\n" + m.group(0)
    return data + rng.choice([b"\nunknown = 1\n", b"\n[target]\n", b"\n[[challenge]]\n", b"\n[notify]\nx=1\n"])


def line_damage(rng: random.Random, data: bytes) -> bytes:
    """Line-level damage for line formats (renewal configs, key files, replies)."""
    lines = data.split(b"\n")
    choice = rng.randrange(5)
    i = rng.randrange(len(lines))
    if choice == 0:
        lines.insert(i, lines[i])
    elif choice == 1:
        lines.pop(i)
    elif choice == 2:
        lines[i] = lines[i] * rng.randrange(2, 50)
    elif choice == 3:
        lines[i] = b"x" * rng.choice([1000, 70000, 1 << 20])
    else:
        lines.insert(i, rng.choice([b"[", b"[[", b"]]", b"=", b"key", b"key =", b"= v", b"#", b"\x00", b"\xff\xfe"]))
    return b"\n".join(lines)


def random_bytes(rng: random.Random, data: bytes) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 64)))


GENERIC: List[Mutator] = [flip_byte, set_byte, truncate, delete_span, duplicate_span, insert_odd, unicode_digits,
                          huge_number, line_damage]
DER: List[Mutator] = [der_length, der_tag, flip_byte, set_byte, truncate, duplicate_span]
PEM: List[Mutator] = [pem_damage, pem_damage, pem_damage, insert_odd, truncate, line_damage]
TOML: List[Mutator] = [toml_swap, toml_swap, toml_nest, toml_key, unicode_digits, huge_number, insert_odd,
                       line_damage, truncate]


def mutate(rng: random.Random, data: bytes, mutators: List[Mutator], rounds: int | None = None) -> bytes:
    """Apply 1-4 (or ``rounds``) mutators; cap the result at 4 MiB so a case stays a case."""
    for _ in range(rounds if rounds is not None else rng.choice([1, 1, 1, 2, 2, 3, 4])):
        data = rng.choice(mutators)(rng, data)
        if len(data) > 4 << 20:
            data = data[:4 << 20]
    return data
