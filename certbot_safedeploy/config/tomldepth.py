"""How deeply a TOML text nests arrays and inline tables, found before ``tomllib`` runs (pure).

``tomllib`` parses nested values recursively: a few thousand ``[`` raise
``RecursionError`` (or exhaust the stack on some builds).  :func:`nesting_depth`
scans the text once, skipping strings and comments, so a config is refused with
a line number before the parser ever sees it.
"""

from __future__ import annotations

MAX_DEPTH = 32  # the deepest real config nests 3 levels: a table, an array, an inline table


def nesting_depth(text: str, limit: int = MAX_DEPTH) -> tuple[int, int]:
    """(deepest nesting of ``[``/``{`` seen, its 1-based line), stopping once ``limit`` is passed."""
    depth = deepest = 0
    where = line = 1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                if text[i] == "\\" and c == '"':
                    i += 1
                elif text[i] == "\n":
                    line += 1
                    if len(quote) == 1:
                        break  # an unterminated string: tomllib reports it
                i += 1
            i += len(quote)
            continue
        elif c in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, line
                if deepest > limit:
                    break
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest, where
