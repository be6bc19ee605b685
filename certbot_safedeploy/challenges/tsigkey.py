"""Parse BIND key files as ``tsig-keygen`` and ``ddns-confgen`` write them (pure).

    key "acme-update" {
            algorithm hmac-sha256;
            secret "base64...";
    };

The secret is kept out of ``repr`` so that it never reaches a log.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re

from certbot_safedeploy.errors import ChallengeError

ALGORITHMS = ("hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512")
_KEY = re.compile(r'key\s+"?([A-Za-z0-9._-]+)"?\s*\{(.*?)\}\s*;', re.S)
_ALG = re.compile(r"algorithm\s+([A-Za-z0-9.-]+)\s*;")
_SECRET = re.compile(r'secret\s+"([A-Za-z0-9+/=\s]+)"\s*;')
# a quoted string (kept: a base64 secret may hold "//") or a comment (dropped), as named.conf reads them
_COMMENT_OR_STRING = re.compile(r'("[^"]*")|(?:#|//)[^\n]*|/\*.*?(?:\*/|\Z)', re.S)


def _strip_comments(text: str) -> str:
    """named.conf comments (``#``, ``//``, ``/* */``) removed, quoted strings left whole."""
    return _COMMENT_OR_STRING.sub(lambda m: m.group(1) or " ", text)


@dataclasses.dataclass(frozen=True)
class TsigKey:
    name: str
    algorithm: str
    secret: bytes = dataclasses.field(repr=False)

    @property
    def dns_algorithm(self) -> str:
        """dnspython's algorithm name (``hmac-md5.sig-alg.reg.int.`` for MD5)."""
        return "hmac-md5.sig-alg.reg.int." if self.algorithm == "hmac-md5" else self.algorithm + "."


def parse_key_file(text: str, source: str = "<key>") -> TsigKey:
    body = _strip_comments(text)
    keys = _KEY.findall(body)
    if len(keys) != 1:
        raise ChallengeError(
            f"expected exactly one key {{ ... }}; statement, found {len(keys)}", path=source,
            fix="use the output of: tsig-keygen -a hmac-sha256 NAME")
    name, inner = keys[0]
    alg = _ALG.search(inner)
    secret = _SECRET.search(inner)
    if not alg or not secret:
        raise ChallengeError("key needs 'algorithm' and 'secret'", path=source,
                             fix="use the output of: tsig-keygen -a hmac-sha256 NAME")
    algorithm = alg.group(1).lower()
    if algorithm not in ALGORITHMS:
        raise ChallengeError(f"unsupported TSIG algorithm {algorithm}", path=source,
                             fix=f"use one of {', '.join(ALGORITHMS)} (hmac-sha256 recommended)")
    try:
        raw = base64.b64decode("".join(secret.group(1).split()), validate=True)
    except (binascii.Error, ValueError):
        raise ChallengeError("the key's secret is not valid base64", path=source) from None
    if len(raw) < 16:
        raise ChallengeError("the key's secret is shorter than 128 bits", path=source)
    return TsigKey(name, algorithm, raw)
