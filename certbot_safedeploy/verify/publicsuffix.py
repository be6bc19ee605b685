"""Wildcards over a public suffix: ``*.com``, ``*.co.uk``, ``*.test`` cover nothing.

Clients refuse to match a wildcard whose remainder is a registry-controlled
suffix: Chrome checks the remainder against the Public Suffix List (its ICANN
section, unknown TLDs included), OpenSSL and GnuTLS require at least two labels
after ``*.``, and NSS refuses ``*.com``-shaped names.  We apply both rules: the
ICANN section of Debian's ``publicsuffix`` package
(``/usr/share/publicsuffix/public_suffix_list.dat``, https://publicsuffix.org/list/),
and, whether or not that file exists, at least two labels after ``*.``, so a bare
TLD is never a wildcard's base.

The list is static system data read once per process (the one file this pure
layer reads; it is part of the distribution, like the zoneinfo database).
"""

from __future__ import annotations

import functools

LIST_FILE = "/usr/share/publicsuffix/public_suffix_list.dat"
_BEGIN, _END = "// ===BEGIN ICANN DOMAINS===", "// ===END ICANN DOMAINS==="


@functools.lru_cache(maxsize=None)
def _rules(path: str = LIST_FILE) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(plain rules, wildcard bases, exceptions) of the ICANN section; empty when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return frozenset(), frozenset(), frozenset()
    return parse(text)


def parse(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The ICANN section of a Public Suffix List (https://github.com/publicsuffix/list/wiki/Format)."""
    plain: set[str] = set()
    wild: set[str] = set()
    exceptions: set[str] = set()
    inside = _BEGIN not in text  # a list without section markers counts as all ICANN
    for raw in text.splitlines():
        line = raw.strip()
        if line == _BEGIN:
            inside = True
            continue
        if line == _END:
            inside = False
            continue
        if not inside or not line or line.startswith("//"):
            continue
        rule = line.split()[0]
        try:
            rule = rule.encode("idna").decode("ascii").lower() if not rule.startswith(("*.", "!")) else rule.lower()
        except UnicodeError:
            rule = rule.lower()
        if rule.startswith("!"):
            exceptions.add(rule[1:])
        elif rule.startswith("*."):
            wild.add(rule[2:])
        else:
            plain.add(rule)
    return frozenset(plain), frozenset(wild), frozenset(exceptions)


def is_public_suffix(name: str, path: str = LIST_FILE) -> bool:
    """True when ``name`` (A-labels, no trailing dot) is itself a public suffix."""
    name = name.lower().rstrip(".")
    plain, wild, exceptions = _rules(path)
    if name in exceptions:
        return False
    if name in plain:
        return True
    head, _, parent = name.partition(".")
    return bool(head) and parent in wild


def wildcard_problem(pattern: str, path: str = LIST_FILE) -> str | None:
    """Why a client will not match the wildcard ``pattern``, or None when it may."""
    if not pattern.startswith("*."):
        return None
    base = pattern[2:].rstrip(".").lower()
    if base.count(".") < 1:
        return (f"{pattern} is a wildcard over the top-level domain {base}: clients (OpenSSL, GnuTLS, "
                "NSS, Chrome) match a wildcard only with at least two labels after '*.'")
    if is_public_suffix(base, path):
        return (f"{pattern} is a wildcard over the public suffix {base} (Public Suffix List): "
                "Chrome refuses to match it (CA/B Forum BR §3.2.2.6)")
    return None
