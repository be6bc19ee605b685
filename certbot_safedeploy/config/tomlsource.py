"""Map a TOML key path such as ``target[1].files[0].mode`` back to a line number.

``tomllib`` does not report positions for semantic errors, so this scans the
source text: it finds the n-th ``[[table]]`` header and then each following key
in turn.  It is a best effort for error messages; it never affects parsing.
"""

from __future__ import annotations

import re
from typing import Sequence, Union

PathPart = Union[str, int]
_HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-\"]+)\s*\]\]?")


def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(r'(^|[\s{,])"?' + re.escape(key) + r'"?\s*=')


def _header_prefix(lines: list[str], parts: list[PathPart]) -> tuple[int, list[int]]:
    """How many leading string parts form the longest header name found (``challenge.zone``), and its lines."""
    best: tuple[int, list[int]] = (0, [])
    names = []
    for part in parts:
        if not isinstance(part, str):
            break
        names.append(part)
        dotted = ".".join(names)
        hits = [i for i, line in enumerate(lines) if (m := _HEADER.match(line)) and m.group(1) == dotted]
        if hits:
            best = (len(names), hits)
    return best


def locate(text: str, path: Sequence[PathPart]) -> int | None:
    """1-based line of the element at ``path``, or None when not found."""
    lines = text.splitlines()
    start, end = 0, len(lines)
    parts = list(path)
    taken, header_hits = _header_prefix(lines, parts)
    if header_hits:
        parts = parts[taken:]
        index = parts[0] if parts and isinstance(parts[0], int) else 0
        if index >= len(header_hits):
            return header_hits[-1] + 1
        start = header_hits[index]
        following = [i for i, line in enumerate(lines) if i > start and _HEADER.match(line)]
        end = following[0] if following else len(lines)
        parts = parts[1:] if parts and isinstance(parts[0], int) else parts
        found = start
    elif parts and isinstance(parts[0], str):
        end = next((i for i, l in enumerate(lines) if _HEADER.match(l)), len(lines))
        found = -1
    else:
        found = -1
    cursor = start
    occurrence = 0
    for part in parts:
        if isinstance(part, int):
            occurrence = part
            continue
        pattern = _key_pattern(part)
        hits = [i for i in range(cursor, end) if pattern.search(lines[i])]
        if not hits:
            break
        found = hits[min(occurrence, len(hits) - 1)]
        cursor = found
        occurrence = 0
    return found + 1 if found >= 0 else None
