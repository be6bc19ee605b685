"""Validate hostile input: ACME tokens, domain names, webroot maps (pure).

* RFC 8555 §8.3: an http-01 token is base64url without padding; anything else
  (a ``/``, ``..``, a NUL) would let a malicious server pick the file path.
* RFC 1035 §2.3.1 / RFC 5890: names are LDH labels of at most 63 octets, 253 in
  all; a wildcard is only the left-most label.
"""

from __future__ import annotations

import os
import re
from typing import Mapping

from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.syntax.jsontext import parse_json

# fullmatch, never match+$: "$" also matches before a final newline
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}", re.ASCII)
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)", re.ASCII)


def check_token(token: str) -> str:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ChallengeError(f"ACME token {token[:40]!r} is not base64url",
                             fix="this is not a token a real ACME CA sends; refusing to write it")
    return token


def check_domain(name: str, *, wildcard_ok: bool = True) -> str:
    """Lower-cased A-label form of ``name``, or ChallengeError."""
    text = name.strip().rstrip(".").lower()
    if len(text) > 1024:  # longer than any IDNA form of 253 octets: refuse before nameprep's linear cost
        raise ChallengeError(f"{name[:40]!r}... ({len(name)} characters) is not a valid domain name",
                             fix="a name has at most 253 characters")
    try:
        text = text.encode("idna").decode("ascii") if not text.isascii() else text
    except UnicodeError:
        raise ChallengeError(f"{name!r} is not a valid domain name") from None
    labels = text.split(".")
    if labels and labels[0] == "*" and wildcard_ok:
        labels = labels[1:]
    if len(text) > 253 or len(labels) < 1 or not all(_LABEL.fullmatch(l) for l in labels):
        raise ChallengeError(f"{name!r} is not a valid domain name",
                             fix="use letters, digits and hyphens, labels of at most 63 characters")
    return text


def base_domain(name: str) -> str:
    """``*.example.com`` -> ``example.com`` (the name dns-01 validates)."""
    return name[2:] if name.startswith("*.") else name


def parse_webroot_map(text: str) -> dict[str, str]:
    """``{"a.com,www.a.com": "/var/www"}`` (JSON) -> {name: webroot}."""
    if not text:
        return {}
    try:
        raw = parse_json(text)
    except ValueError as exc:
        raise ChallengeError(f"webroot map is not valid JSON: {exc}",
                             fix='write it like {"example.com,www.example.com": "/var/www/html"}') from None
    if not isinstance(raw, dict):
        raise ChallengeError("webroot map must be a JSON object")
    return normalize_webroot_map(raw)


def normalize_webroot_map(raw: Mapping[str, object]) -> dict[str, str]:
    out: dict[str, str] = {}
    for names, root in raw.items():
        if not isinstance(root, str) or not os.path.isabs(root):
            raise ChallengeError(f"webroot for {names!r} must be an absolute path, not {root!r}")
        for name in str(names).split(","):
            if name.strip():
                out[check_domain(name, wildcard_ok=False)] = os.path.normpath(root)
    return out
