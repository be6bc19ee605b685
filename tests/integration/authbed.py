"""Shared pieces of the Knot DNS and PowerDNS test beds: keys, zone files, queries.

Each bed serves its zones on 127.0.0.1 at a free port, with its own TSIG keys:
``<flavour>-key`` may update the open zones, ``<flavour>-other`` exists on the
server but is allowed for the ``locked`` zone only.
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from typing import Mapping, Sequence

import dns.message
import dns.query
import dns.rdatatype

from .servers import Process


def write_key_file(path: Path, name: str, secret: bytes | None = None) -> bytes:
    """A BIND-format key file (what tsig-keygen writes), 0600; returns the secret."""
    secret = secret if secret is not None else os.urandom(32)
    path.write_text(f'key "{name}" {{\n\talgorithm hmac-sha256;\n'
                    f'\tsecret "{base64.b64encode(secret).decode()}";\n}};\n')
    path.chmod(0o600)
    return secret


def zone_text(zone: str, records: Sequence[str] = ()) -> str:
    """A zone with SOA minimum 1 (short negative caching), NS ns1.<zone> at 127.0.0.1."""
    return "\n".join([
        "$TTL 1",
        f"{zone}. IN SOA ns1.{zone}. hostmaster.{zone}. 1 1 1 3600 1",
        f"{zone}. IN NS ns1.{zone}.",
        f"ns1.{zone}. IN A 127.0.0.1",
        *records,
    ]) + "\n"


class AuthBed:
    """Base: subclasses write configs in ``_configure`` and return the server argv."""

    flavour = ""

    def __init__(self, base: Path, port: int, zones: Mapping[str, Sequence[str]]) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.zones = dict(zones)
        self.key_name = f"{self.flavour}-key"
        self.other_name = f"{self.flavour}-other"
        self.key_file = base / f"{self.key_name}.key"
        self.other_key_file = base / f"{self.other_name}.key"
        self.secret = write_key_file(self.key_file, self.key_name)
        self.other_secret = write_key_file(self.other_key_file, self.other_name)
        self.process: Process | None = None

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> "AuthBed":
        self.process = Process(self._argv(), self.log)
        try:
            self._wait_serving()
        except BaseException:
            self.stop()  # never leave a server behind when the bed fails to start
            raise
        return self

    def _wait_serving(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for zone in self.zones:
            while True:
                if self.process and self.process.proc.poll() is not None:
                    raise RuntimeError(f"{self.flavour} exited: {self.log.read_text()[-3000:]}")
                try:
                    r = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=self.port,
                                      timeout=0.5)
                    if r.answer:
                        break
                except Exception:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.flavour} does not serve {zone}: {self.log.read_text()[-3000:]}")
                time.sleep(0.1)

    def rrset(self, name: str, rdtype: str = "TXT") -> tuple[int | None, set[str]]:
        """(TTL or None, values) of ``name`` as the server serves it."""
        r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=self.port, timeout=2)
        for rr in r.answer:
            if rr.rdtype == dns.rdatatype.from_text(rdtype):
                return rr.ttl, {b"".join(x.strings).decode() for x in rr}
        return None, set()

    def txt(self, name: str) -> set[str]:
        return self.rrset(name)[1]

    def stop(self) -> None:
        if self.process:
            self.process.stop()
