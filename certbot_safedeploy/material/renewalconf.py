"""Parse certbot's ``renewal/<name>.conf`` (configobj syntax) without configobj (pure)."""

from __future__ import annotations

import dataclasses
import re

from certbot_safedeploy.syntax.numbers import parse_decimal

MAX_WINDOW_DAYS = 36500  # a larger renew_before_expiry is nonsense; certbot's default applies
_SECTION = re.compile(r"^(\[+)\s*([^\]]+?)\s*\]+$")


@dataclasses.dataclass(frozen=True)
class RenewalConf:
    name: str
    path: str
    top: dict[str, str]
    params: dict[str, str]  # [renewalparams]
    webroot_map: dict[str, str]  # [[webroot_map]]


def parse_renewal_conf(name: str, path: str, text: str) -> RenewalConf:
    top: dict[str, str] = {}
    params: dict[str, str] = {}
    webroot_map: dict[str, str] = {}
    current = top
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        section = _SECTION.match(line)
        if section:
            depth, title = len(section.group(1)), section.group(2)
            current = params if (depth, title) == (1, "renewalparams") else (
                webroot_map if title == "webroot_map" else {})
            continue
        key, sep, value = line.partition("=")
        if sep:
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            current[key.strip()] = value
    return RenewalConf(name, path, top, params, webroot_map)


def renew_window_days(conf: RenewalConf, lifetime_days: float) -> float:
    """certbot's renewal window: ``renew_before_expiry`` or 30 days (1/3 of short lifetimes)."""
    text = conf.top.get("renew_before_expiry", "").strip().lower()
    match = re.fullmatch(r"([0-9]{1,20})\s*(day|days|d|week|weeks|w)?", text, re.ASCII)
    n = parse_decimal(match.group(1), 0, MAX_WINDOW_DAYS) if match else None
    if match and n is not None:
        return n * 7 if (match.group(2) or "").startswith("w") else n
    return min(30.0, lifetime_days / 3)
