"""The ``[fleet]`` table of the TOML config (pure: parsing and validation only).

    [fleet]
    store = "/var/lib/certbot-safedeploy/fleet.db"        # SQLite file (the default)
    # store = "postgresql+psycopg://fleet@db.example.net/fleet"
    # store_password_file = "/etc/letsencrypt/fleet-db.password"  # root-only, 0600
    server = "web1"                    # this server's name in the store (default: FQDN)
    key_dir = "/var/lib/certbot-safedeploy/fleet"   # keys and local state (default: state_dir/fleet)
    # central host only:
    certbot = ["certbot", "-a", "safedeploy", "--safedeploy-nsupdate-server", "10.0.0.53"]
    renew_fraction = 0.3333            # renew with this fraction of the lifetime left
    max_orders_per_3h = 250            # Let's Encrypt allows 300 new orders per account per 3 h
    max_failures_per_hour = 4          # ... and 5 failed validations per name per hour
    certbot_timeout = 900
    stale_after_hours = 26             # a server that has not pulled for this long is stale
    ari_directory = "https://acme-v02.api.letsencrypt.org/directory"  # follow the CA's renewal windows
    # servers:
    reprobe_minutes = 60               # re-probe what is served this often, even with nothing new
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
from typing import Any, Callable, Mapping

from certbot_safedeploy.config.reader import TableReader

KEYS = ("store", "store_password_file", "server", "key_dir", "certbot", "renew_fraction",
        "max_orders_per_3h", "max_failures_per_hour", "certbot_timeout", "stale_after_hours",
        "reprobe_minutes", "ari_directory")
_SERVER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
_URL = re.compile(r"^(sqlite|postgresql(\+psycopg|\+psycopg2)?)://", re.I)


@dataclasses.dataclass(frozen=True)
class FleetSettings:
    store: str  # an SQLAlchemy URL (a bare path was turned into sqlite:///...)
    store_password_file: str | None
    server: str
    key_dir: str
    certbot: tuple[str, ...]
    renew_fraction: float = 1 / 3
    max_orders_per_3h: int = 250
    max_failures_per_hour: int = 4
    certbot_timeout: float = 900.0
    stale_after_hours: float = 26.0
    reprobe_minutes: float = 60.0
    ari_directory: str | None = None  # the CA's ACME directory, whose renewalInfo (RFC 9773) renew follows
    certbot_given: bool = False  # the table names ``certbot``: a command run as root


class FleetSettingsError(ValueError):
    """A key of ``[fleet]`` is invalid; ``key`` names it, ``fix`` says what to do."""

    def __init__(self, key: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.key, self.message, self.fix = key, message, fix


def store_url(text: str) -> str:
    """Turn ``text`` (an absolute path or an SQLAlchemy URL) into a URL."""
    if text.startswith("/"):
        return "sqlite:///" + text
    if not _URL.match(text):
        raise FleetSettingsError("store", f"{_redact(text)!r} is neither an absolute path nor a "
                                 "sqlite:// or postgresql+psycopg:// URL",
                                 "use /var/lib/certbot-safedeploy/fleet.db or postgresql+psycopg://user@host/db")
    return text


def _redact(url: str) -> str:
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    return _redact(url)


def _number(table: Mapping[str, Any], key: str, default: float, low: float, high: float,
            cast: Callable[[Any], float]) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise FleetSettingsError(key, f"must be a number from {low:g} to {high:g}")
    return cast(value)


def settings_from_table(table: Mapping[str, Any], state_dir: str) -> FleetSettings:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise FleetSettingsError(unknown[0], "unknown key", f"allowed keys: {', '.join(KEYS)}")
    store = table.get("store", os.path.join(state_dir, "fleet.db"))
    if not isinstance(store, str) or not store:
        raise FleetSettingsError("store", "must be a path or URL string")
    password_file = table.get("store_password_file")
    if password_file is not None and (not isinstance(password_file, str) or not password_file.startswith("/")):
        raise FleetSettingsError("store_password_file", "must be an absolute path")
    server = table["server"] if "server" in table else socket.getfqdn()  # no DNS lookup when it is set
    if not isinstance(server, str) or not _SERVER.match(server):
        raise FleetSettingsError("server", f"{server!r} has characters outside [A-Za-z0-9_.@-]")
    key_dir = table.get("key_dir", os.path.join(state_dir, "fleet"))
    if not isinstance(key_dir, str) or not key_dir.startswith("/") or ".." in key_dir.split("/"):
        raise FleetSettingsError("key_dir", "must be an absolute path without '..'")
    certbot = table.get("certbot", ["certbot", "-a", "safedeploy"])
    if (not isinstance(certbot, list) or not certbot
            or not all(isinstance(a, str) and a and "\0" not in a for a in certbot)):
        raise FleetSettingsError("certbot", "must be a non-empty list of strings (an argv)")
    forbidden = {"--csr", "--cert-path", "--chain-path", "--fullchain-path", "--key-path", "certonly"}
    clash = forbidden.intersection(certbot)
    if clash:
        raise FleetSettingsError("certbot", f"{sorted(clash)[0]} is added by fleet renew itself",
                                 "list only the program and the authenticator options")
    ari_directory = table.get("ari_directory")
    if ari_directory is not None and (not isinstance(ari_directory, str) or not ari_directory.startswith("https://")
                                      or len(ari_directory) > 2048 or any(ch.isspace() for ch in ari_directory)):
        raise FleetSettingsError("ari_directory", "must be the https:// URL of the CA's ACME directory",
                                 "copy certbot's --server, e.g. https://acme-v02.api.letsencrypt.org/directory")
    return FleetSettings(
        store=store_url(store),
        store_password_file=password_file,
        server=server,
        key_dir=key_dir,
        certbot=tuple(certbot),
        renew_fraction=_number(table, "renew_fraction", 1 / 3, 0.01, 0.9, float),
        max_orders_per_3h=int(_number(table, "max_orders_per_3h", 250, 1, 300, int)),
        max_failures_per_hour=int(_number(table, "max_failures_per_hour", 4, 1, 5, int)),
        certbot_timeout=_number(table, "certbot_timeout", 900, 10, 7200, float),
        stale_after_hours=_number(table, "stale_after_hours", 26, 0.01, 24 * 90, float),
        reprobe_minutes=_number(table, "reprobe_minutes", 60, 0, 7 * 24 * 60, float),
        ari_directory=ari_directory,
        certbot_given="certbot" in table,
    )


def fleet_defaults(state_dir: str) -> FleetSettings:
    """The settings of a config without a ``[fleet]`` table."""
    return settings_from_table({}, state_dir)


def parse_fleet(r: TableReader, value: Any, state_dir: str) -> FleetSettings:
    """The config file's ``[fleet]`` table; errors name the file, the line and the key."""
    table = r.table(value, ["fleet"], KEYS)
    try:
        return settings_from_table(table, state_dir)
    except FleetSettingsError as exc:
        raise r.fail(["fleet", exc.key], exc.message, exc.fix) from None
