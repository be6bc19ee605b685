"""How services use their certificate: as a client, for stapling, under which names (pure).

The readers in :mod:`.usereaders` hand these parsers the same text the
:mod:`.parse` readers see (``nginx -T``, Apache's files, ``haproxy.cfg``,
``postconf -n``, ``slapcat -n 0``, ``postgresql.conf``).  Each :class:`Use` says
what a setting does with a file or a name, where it is written, and its scope
(an nginx ``server`` block or Apache ``<VirtualHost>``; "" for global settings),
so a target's stapling and names are those of the blocks that serve its files.
"""

from __future__ import annotations

import dataclasses
import os
import re

from certbot_safedeploy.services.parse import NGINX_FILE_MARKER, strip_comment, unquote

CLIENT, STAPLE, NAME, CERT = "client", "staple", "name", "cert"


@dataclasses.dataclass(frozen=True)
class Use:
    service: str
    kind: str  # client | staple | name | cert
    setting: str
    value: str  # a path (client, cert), a name (name), "on" (staple)
    where: str  # file:line
    scope: str = ""  # the server block / virtual host; "" outside one


_NGINX_STMT = re.compile(r"([A-Za-z_]+)((?:\s+(?:\"[^\"]*\"|'[^']*'|[^;{}\s]+))*)\s*([;{}])|(})")
NGINX_CLIENT = ("proxy_ssl_certificate", "grpc_ssl_certificate", "uwsgi_ssl_certificate")


def parse_nginx_uses(text: str) -> list[Use]:
    """``nginx -T`` output: client certificates, ``ssl_stapling on``, ``server_name``, ``ssl_certificate``."""
    uses: list[Use] = []
    current, number = "nginx -T", 0
    stack: list[str] = []  # scopes of the open blocks ("" for non-server blocks)
    for raw in text.splitlines():
        marker = NGINX_FILE_MARKER.match(raw)
        if marker:
            current, number, stack = marker.group(1), 0, []
            continue
        number += 1
        for match in _NGINX_STMT.finditer(strip_comment(raw)):
            if match.group(4):
                if stack:
                    stack.pop()
                continue
            word, args, end = match.group(1), match.group(2).split(), match.group(3)
            where = f"{current}:{number}"
            scope = next((s for s in reversed(stack) if s), "")
            if end == "{":
                stack.append(where if word == "server" else "")
                continue
            if end == "}":
                if stack:
                    stack.pop()
            values = [unquote(a) for a in args]
            if word in NGINX_CLIENT and values:
                uses.append(Use("nginx", CLIENT, word, values[0], where, scope))
            elif word == "ssl_certificate" and values:
                uses.append(Use("nginx", CERT, word, values[0], where, scope))
            elif word == "ssl_stapling" and values[:1] == ["on"]:
                uses.append(Use("nginx", STAPLE, word, "on", where, scope))
            elif word == "server_name":
                uses += [Use("nginx", NAME, word, v.lower(), where, scope) for v in values
                         if v and not v.startswith(("~", "*.", ".")) and v != "_"]
                uses += [Use("nginx", NAME, word, v.lower(), where, scope) for v in values if v.startswith("*.")]
    return uses


def parse_apache_uses(text: str, path: str, server_root: str = "/etc/apache2") -> list[Use]:
    uses: list[Use] = []
    scope = ""
    for number, raw in enumerate(text.splitlines(), 1):
        words = strip_comment(raw).split()
        if not words:
            continue
        where, head = f"{path}:{number}", words[0].lower()
        if head.startswith("<virtualhost"):
            scope = where
        elif head.startswith("</virtualhost"):
            scope = ""
        elif head == "sslproxymachinecertificatefile" and len(words) > 1:
            uses.append(Use("apache2", CLIENT, words[0], os.path.join(server_root, unquote(words[1])), where, scope))
        elif head == "sslcertificatefile" and len(words) > 1:
            uses.append(Use("apache2", CERT, words[0], os.path.join(server_root, unquote(words[1])), where, scope))
        elif head == "sslusestapling" and len(words) > 1 and words[1].lower() == "on":
            uses.append(Use("apache2", STAPLE, words[0], "on", where, scope))
        elif head in ("servername", "serveralias"):
            for value in words[1:]:
                name = re.sub(r"^[a-z]+://", "", value.lower()).split(":")[0]
                if name:
                    uses.append(Use("apache2", NAME, words[0], name, where, scope))
    return uses


def parse_haproxy_uses(text: str, path: str) -> list[Use]:
    """``server``/``default-server ... crt FILE`` present FILE to the backend: client use."""
    uses: list[Use] = []
    crt_base = ""
    for number, raw in enumerate(text.splitlines(), 1):
        words = strip_comment(raw).split()
        if not words:
            continue
        if words[0] == "crt-base" and len(words) > 1:
            crt_base = unquote(words[1])
        if words[0] in ("bind", "server", "default-server"):
            for i, word in enumerate(words[:-1]):
                if word == "crt":
                    value = unquote(words[i + 1])
                    value = os.path.join(crt_base, value) if crt_base else value
                    kind = CERT if words[0] == "bind" else CLIENT
                    uses.append(Use("haproxy", kind, f"{words[0]} ... crt", value, f"{path}:{number}"))
    return uses


_POSTFIX_CLIENT = re.compile(r"^(?:[\w.-]+/[\w.-]+/)?((?:smtp|lmtp)_tls_(?:(?:ec|d)?cert_file|chain_files))$")


def parse_postfix_uses(text: str, where_of: dict[str, str]) -> list[Use]:
    """``postconf -n -x``: the SMTP/LMTP client's certificate settings; ``where_of`` maps a key to file:line."""
    uses: list[Use] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        match = _POSTFIX_CLIENT.match(key)
        if sep and match:
            for item in re.split(r"[\s,]+", value.strip()):
                if item.startswith("/"):
                    uses.append(Use("postfix", CLIENT, key, item, where_of.get(key, "main.cf")))
    return uses


def postfix_lines(main_cf: str, path: str) -> dict[str, str]:
    """Where each key of main.cf is set (the last assignment wins, as in Postfix)."""
    found: dict[str, str] = {}
    for number, raw in enumerate(main_cf.splitlines(), 1):
        match = re.match(r"^([A-Za-z0-9_./-]+)\s*=", raw)
        if match:
            found[match.group(1)] = f"{path}:{number}"
    return found


_TLS_CERT = re.compile(r"\btls_cert\s*=\s*(\"[^\"]*\"|\S+)")


def parse_slapd_uses(text: str, where: str) -> list[Use]:
    """``olcSyncrepl: ... tls_cert=FILE`` (or slapd.conf ``syncrepl``): the replica presents FILE."""
    import base64

    uses: list[Use] = []
    number = 0
    lines = text.splitlines()
    logical: list[tuple[int, str]] = []
    for number, raw in enumerate(lines, 1):
        if raw.startswith(" ") and logical and logical[-1][1] != "":
            logical[-1] = (logical[-1][0], logical[-1][1] + raw[1:])
        else:
            logical.append((number, raw))
    for number, line in logical:
        match = re.match(r"^(olcSyncrepl|syncrepl)(::?|\s+)\s*(.*)$", line, re.I)
        if not match:
            continue
        value = match.group(3)
        if match.group(2) == "::":
            try:
                value = base64.b64decode(value, validate=True).decode("utf-8")
            except ValueError:
                continue
        for cert in _TLS_CERT.finditer(value):
            uses.append(Use("slapd", CLIENT, f"{match.group(1)} tls_cert", unquote(cert.group(1)),
                            f"{where}:{number}"))
    return uses


_SSLCERT = re.compile(r"\bsslcert\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")


def parse_postgresql_uses(text: str, path: str) -> list[Use]:
    """``primary_conninfo = '... sslcert=FILE ...'``: the replica presents FILE to its primary."""
    uses: list[Use] = []
    for number, raw in enumerate(text.splitlines(), 1):
        match = re.match(r"^\s*primary_conninfo\s*=?\s*'((?:[^']|'')*)'", raw)
        if not match:
            continue
        for cert in _SSLCERT.finditer(match.group(1).replace("''", "'")):
            uses.append(Use("postgresql", CLIENT, "primary_conninfo sslcert", unquote(cert.group(1)),
                            f"{path}:{number}"))
    return uses
