"""Dovecot configuration in the syntax of the Dovecot installed here: 2.3 (Debian 12) or 2.4 (Debian 13).

2.4 wants ``dovecot_config_version`` as the first setting and names the TLS files
``ssl_server_cert_file``/``ssl_server_key_file`` (a path, no ``<``).
"""

from __future__ import annotations

import functools
import re
import subprocess


@functools.lru_cache(maxsize=None)
def installed_version() -> tuple[int, int]:
    out = subprocess.run(["dovecot", "--version"], capture_output=True, text=True, timeout=30).stdout
    match = re.match(r"(\d+)\.(\d+)", out.strip())
    assert match, f"dovecot --version printed {out!r}"
    return int(match.group(1)), int(match.group(2))


def is_24(version: tuple[int, int] | None = None) -> bool:
    return (version or installed_version()) >= (2, 4)


def head(version: tuple[int, int] | None = None) -> str:
    """The lines a configuration must start with."""
    if not is_24(version):
        return ""
    v = ".".join(map(str, version or installed_version()))
    return f"dovecot_config_version = {v}.0\ndovecot_storage_version = {v}.0\n"


def tls(cert: str, key: str, version: tuple[int, int] | None = None) -> str:
    if is_24(version):
        return f"ssl_server_cert_file = {cert}\nssl_server_key_file = {key}\n"
    return f"ssl_cert = <{cert}\nssl_key = <{key}\n"


def setting_names(version: tuple[int, int] | None = None) -> tuple[str, str]:
    return ("ssl_server_cert_file", "ssl_server_key_file") if is_24(version) else ("ssl_cert", "ssl_key")
