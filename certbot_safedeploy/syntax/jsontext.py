"""JSON from outside (state files, fleet rows, ARI answers, options): one strict reader (pure).

``json.loads`` decodes nested arrays and objects recursively, so a few thousand ``[``
raise ``RecursionError``, which is not a ``ValueError`` and escaped the callers that
caught only that.  :func:`parse_json` refuses nesting deeper than :data:`MAX_DEPTH`
before the decoder runs (strings are skipped, so brackets inside them do not count),
and every failure is a ``ValueError``, which each caller already turns into its own
one-line error.  RFC 8259 section 9 lets a parser limit nesting depth.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64  # our deepest document (the status file) nests 4 levels
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


def json_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of ``[``/``{`` in ``text``, counted up to just past ``limit``."""
    depth = deepest = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif token in "]}":
            depth = max(0, depth - 1)
    return deepest


def parse_json(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with a nesting limit; any failure (bad UTF-8 included) is a ``ValueError``."""
    try:
        decoded = text.decode("utf-8") if isinstance(text, bytes) else text
        if json_depth(decoded, max_depth) > max_depth:
            raise ValueError(f"JSON nested more than {max_depth} levels deep")
        return json.loads(decoded)
    except RecursionError:  # pragma: no cover - the depth check comes first
        raise ValueError("JSON nested too deeply") from None
