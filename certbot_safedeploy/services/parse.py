"""Find certificate and key paths in each service's effective configuration (pure).

Every parser takes text a service printed (``nginx -T``, ``postconf -n``,
``doveconf -n``, ``slapcat -n 0``) or a file it reads (Apache's included files,
``haproxy.cfg``) and returns :class:`Reference` objects: which setting names
which file, and where the setting is written.  Values other than paths (an
inline key in ``doveconf -P``) are never kept.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re


@dataclasses.dataclass(frozen=True)
class Reference:
    service: str
    setting: str  # the directive, e.g. ssl_certificate
    path: str  # the certificate or key file the service reads
    where: str  # file:line, or the command that printed it

    @property
    def part(self) -> str:
        """The certbot part a path names (live/x/fullchain.pem, archive/x/fullchain3.pem), or ''."""
        match = re.fullmatch(r"(cert|chain|fullchain|privkey)\d*\.pem", os.path.basename(self.path))
        return match.group(1) if match else ""


NGINX_DIRECTIVES = ("ssl_certificate", "ssl_certificate_key", "ssl_trusted_certificate")
NGINX_FILE_MARKER = re.compile(r"^# configuration file (.+):$")
_NGINX = re.compile(r"(?:^|[;{}\s])(" + "|".join(NGINX_DIRECTIVES) + r")\s+(\"[^\"]*\"|'[^']*'|[^;\s]+)\s*;")


def unquote(value: str) -> str:
    """A config value without its surrounding quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def strip_comment(line: str) -> str:
    """A config line without its ``#`` comment (a ``#`` inside quotes is kept)."""
    out, quote = [], ""
    for ch in line:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        out.append(ch)
    return "".join(out)


def parse_nginx_dump(text: str) -> list[Reference]:
    """``nginx -T``: each file follows a ``# configuration file PATH:`` line."""
    refs: list[Reference] = []
    current, line_no = "nginx -T", 0
    for raw in text.splitlines():
        marker = NGINX_FILE_MARKER.match(raw)
        if marker:
            current, line_no = marker.group(1), 0
            continue
        line_no += 1
        for match in _NGINX.finditer(strip_comment(raw)):
            value = unquote(match.group(2))
            if not value.startswith(("data:", "engine:", "$")):
                refs.append(Reference("nginx", match.group(1), value, f"{current}:{line_no}"))
    return refs


_APACHE = re.compile(r"^\s*(SSLCertificateFile|SSLCertificateKeyFile|SSLCertificateChainFile|SSLCACertificateFile)"
                     r"\s+(\"[^\"]*\"|\S+)", re.I)


def parse_apache_includes(text: str) -> list[str]:
    """``apache2 -t -D DUMP_INCLUDES``: the files Apache read, in order."""
    files = []
    for line in text.splitlines():
        match = re.match(r"^\s*\((?:\*|\d+)\)\s+(/\S.*)$", line)
        if match:
            files.append(match.group(1).strip())
    return files


def parse_apache_file(text: str, path: str, server_root: str = "/etc/apache2") -> list[Reference]:
    refs = []
    for number, raw in enumerate(text.splitlines(), 1):
        match = _APACHE.match(raw)
        if match:
            value = unquote(match.group(2))
            refs.append(Reference("apache2", match.group(1), os.path.join(server_root, value), f"{path}:{number}"))
    return refs


def parse_haproxy(text: str, path: str) -> tuple[list[Reference], str | None]:
    """``crt``/``crt-list`` on ``bind`` and ``server`` lines (relative to ``crt-base``); the pidfile."""
    refs: list[Reference] = []
    crt_base, pidfile = "", None
    for number, raw in enumerate(text.splitlines(), 1):
        words = strip_comment(raw).split()
        if not words:
            continue
        if words[0] == "crt-base" and len(words) > 1:
            crt_base = unquote(words[1])
        elif words[0] == "pidfile" and len(words) > 1:
            pidfile = unquote(words[1])
        elif words[0] in ("bind", "server", "default-server"):
            for i, word in enumerate(words[:-1]):
                if word in ("crt", "crt-list"):
                    value = unquote(words[i + 1])
                    refs.append(Reference("haproxy", word, os.path.join(crt_base, value) if crt_base else value,
                                          f"{path}:{number}"))
    return refs, pidfile


_POSTFIX_KEY = re.compile(r"^(?:[\w.-]+/[\w.-]+/)?(\w+_tls_(?:(?:ec|d)?cert_file|(?:ec|d)?key_file|chain_files))$")


def parse_postconf(text: str, where: str) -> list[Reference]:
    """``postconf -n -x`` (main.cf) or ``postconf -P -x`` (master.cf ``-o`` overrides)."""
    refs = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        match = _POSTFIX_KEY.match(key.strip())
        if sep and match:
            for item in re.split(r"[\s,]+", value.strip()):
                if item.startswith("/"):
                    refs.append(Reference("postfix", key.strip(), item, where))
    return refs


# Dovecot 2.3: ssl_cert = <PATH (the "<" reads a file; anything else is an inline value).
DOVECOT23_SETTINGS = ("ssl_cert", "ssl_key", "ssl_alt_cert", "ssl_alt_key", "ssl_ca")
# Dovecot 2.4 renamed them (ssl_server_cert_file = PATH) and doveconf -n prints them inside
# ``ssl_server { cert_file = PATH }``; both spellings are read, named as the flat setting.
DOVECOT24_SETTINGS = ("ssl_server_cert_file", "ssl_server_key_file", "ssl_server_alt_cert_file",
                      "ssl_server_alt_key_file", "ssl_server_ca_file")
_DOVECOT_SETTING = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*(.*?)\s*$")
_DOVECOT_OPEN = re.compile(r"^\s*([A-Za-z0-9_]+)(?:\s+[^{}=]*)?\{\s*$")


def parse_doveconf(text: str, where: str) -> list[Reference]:
    """``doveconf -n -P`` of Dovecot 2.3 or 2.4: 2.3 file references are written ``<path``
    (inline values are skipped); 2.4's ``*_file`` settings hold the path itself, flat or inside
    an ``ssl_server { }`` block (also within ``local_name``/``protocol`` filters)."""
    refs = []
    blocks: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        opened = _DOVECOT_OPEN.match(stripped)
        if opened:
            blocks.append(opened.group(1))
            continue
        if stripped == "}":
            if blocks:
                blocks.pop()
            continue
        match = _DOVECOT_SETTING.match(stripped)
        if not match:
            continue
        name, value = match.groups()
        if blocks and blocks[-1] == "ssl_server":
            name = "ssl_server_" + name
        if name in DOVECOT23_SETTINGS and value.startswith("<"):
            path = value[1:].strip()
        elif name in DOVECOT24_SETTINGS and value:
            path = value[1:].strip() if value.startswith("<") else value
        else:
            continue
        path = unquote(path)
        if path.startswith("/") and not any(c.isspace() for c in path):
            refs.append(Reference("dovecot", name, path, where))
    return refs


SLAPD_ATTRIBUTES = ("olcTLSCertificateFile", "olcTLSCertificateKeyFile", "olcTLSCACertificateFile")


def parse_slapd(text: str, where: str) -> list[Reference]:
    """cn=config LDIF (``slapcat -n 0``, folded lines, base64 values) or ``slapd.conf`` directives."""
    refs = []
    unfolded = re.sub(r"\r?\n ", "", text)
    names = {a.lower(): a for a in SLAPD_ATTRIBUTES}
    names.update({a[3:].lower(): a[3:] for a in SLAPD_ATTRIBUTES})  # slapd.conf: TLSCertificateFile /path
    for line in unfolded.splitlines():
        match = re.match(r"^([A-Za-z]+)(::?|\s+)\s*(.*)$", line)
        if not match or match.group(1).lower() not in names:
            continue
        value = match.group(3).strip()
        if match.group(2) == "::":
            try:
                value = base64.b64decode(value, validate=True).decode("utf-8")
            except ValueError:
                continue
        if value.startswith("/"):
            refs.append(Reference("slapd", names[match.group(1).lower()], unquote(value), where))
    return refs


_PG_LINE = re.compile(r"^\s*([A-Za-z_.]+)\s*=?\s*('(?:[^']|'')*'|[^\s#]+)")
PG_SETTINGS = ("ssl_cert_file", "ssl_key_file", "ssl_ca_file")


@dataclasses.dataclass
class PgFile:
    references: list[Reference]
    includes: list[tuple[str, str]]  # (include | include_if_exists | include_dir, path as written)
    data_directory: str | None


def parse_postgresql(text: str, path: str) -> PgFile:
    """``postgresql.conf``: the TLS file settings, include directives and data_directory."""
    out = PgFile([], [], None)
    for number, raw in enumerate(text.splitlines(), 1):
        match = _PG_LINE.match(raw)
        if not match:
            continue
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        if key in PG_SETTINGS and value:
            out.references.append(Reference("postgresql", key, value, f"{path}:{number}"))
        elif key in ("include", "include_if_exists", "include_dir"):
            out.includes.append((key, value))
        elif key == "data_directory":
            out.data_directory = value
    return out
