"""Real TLS clients' certificate verifiers as oracles: OpenSSL, GnuTLS and NSS from Debian.

Each oracle takes a case (leaf, an unordered pool of intermediates, trust anchors,
a DNS name, a validation time) and answers accepted / refused, the way the
client's own command-line front end judges it:

* ``openssl``: ``openssl verify -purpose sslserver -verify_hostname NAME``;
  ``openssl-strict`` adds ``-x509_strict``; ``openssl-level2`` adds ``-auth_level 2``,
  the security level Debian's OpenSSL applies in a TLS handshake.
* ``gnutls``: ``certtool --verify --verify-purpose serverAuth --verify-hostname NAME``
  (run under ``faketime`` when the case is not judged now: certtool has no ``-attime``).
* ``nss``: ``vfychain -u 1`` (SSL server, NSS's classic ``CERT_VerifyCertificate``, which
  ``SSL_AuthCertificate`` uses in a handshake) with the anchors trusted ``C,,`` in a
  throw-away NSS database (``certutil -N``, ``certutil -A``).  vfychain checks the path only, not the
  name; NSS's name check is the one of its TLS stack, which these tests do not run.

These run in the test suite only.  The package never runs them (no openssl
subprocesses in the package, and the gate stays offline).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import shutil
import subprocess
import tempfile
from typing import Callable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization

CLIENTS = ("openssl", "openssl-strict", "openssl-level2", "gnutls", "nss")
TOOLS = {"openssl": "openssl", "gnutls": "certtool", "nss": "vfychain"}
NAME_CHECKING = ("openssl", "openssl-strict", "openssl-level2", "gnutls")


def missing_tools() -> list[str]:
    need = ["openssl", "certtool", "vfychain", "certutil"]
    return [t for t in need if shutil.which(t) is None]


def _pem(cert: x509.Certificate | bytes) -> bytes:
    if isinstance(cert, bytes):
        return cert
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclasses.dataclass
class Case:
    """One path-validation question, with the answers of the clients once asked."""

    name: str
    leaf: x509.Certificate | bytes
    pool: Sequence[x509.Certificate | bytes]
    anchors: Sequence[x509.Certificate | bytes]
    dns_name: str
    when: datetime.datetime

    @property
    def epoch(self) -> int:
        return int(self.when.timestamp())

    def is_now(self) -> bool:
        now = datetime.datetime.now(datetime.timezone.utc)
        return abs((self.when - now).total_seconds()) < 120


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[bool, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    out = (proc.stdout + proc.stderr).strip()
    return proc.returncode == 0, out


def _write(directory: str, name: str, certs: Sequence[x509.Certificate | bytes]) -> str:
    path = os.path.join(directory, name)
    with open(path, "wb") as handle:
        handle.write(b"".join(_pem(c) for c in certs))
    return path


def openssl(case: Case, directory: str, extra: Sequence[str] = ()) -> tuple[bool, str]:
    argv = ["openssl", "verify", "-purpose", "sslserver", "-verify_hostname", case.dns_name,
            "-attime", str(case.epoch), *extra, "-CAfile", _write(directory, "anchors.pem", case.anchors)]
    if case.pool:
        argv += ["-untrusted", _write(directory, "pool.pem", case.pool)]
    argv.append(_write(directory, "leaf.pem", [case.leaf]))
    ok, out = _run(argv)
    # openssl verify can exit 0 after printing an error for a certificate it could not load
    return ok and ": OK" in out, out


def gnutls(case: Case, directory: str) -> tuple[bool, str]:
    argv = ["certtool", "--verify", "--verify-purpose", "1.3.6.1.5.5.7.3.1",
            "--verify-hostname", case.dns_name,
            "--load-ca-certificate", _write(directory, "anchors.pem", case.anchors),
            "--infile", _write(directory, "chain.pem", [case.leaf, *case.pool])]
    env = None
    if not case.is_now():
        if shutil.which("faketime") is None:
            return False, "faketime is needed to judge a case at another time"
        stamp = case.when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        argv = ["faketime", "-f", f"@{stamp}", *argv]
        env = dict(os.environ, TZ="UTC")
    ok, out = _run(argv, env)
    return ok and "Chain verification output: Verified" in out, out


def nss(case: Case, directory: str) -> tuple[bool, str]:
    db = os.path.join(directory, "nssdb")
    os.mkdir(db)
    made, out = _run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"])
    if not made:
        return False, out
    stamp = case.when.astimezone(datetime.timezone.utc).strftime("%y%m%d%H%MZ")
    argv = ["vfychain", "-d", f"sql:{db}", "-u", "1", "-b", stamp, "-a",
            _write(directory, "leaf.pem", [case.leaf])]
    for i, cert in enumerate(case.pool):
        argv += ["-a", _write(directory, f"pool{i}.pem", [cert])]
    for i, cert in enumerate(case.anchors):
        added, out = _run(["certutil", "-A", "-d", f"sql:{db}", "-n", f"anchor{i}", "-t", "C,,", "-a",
                           "-i", _write(directory, f"anchor{i}.pem", [cert])])
        if not added:
            return False, f"certutil cannot import anchor {i}: {out}"
    ok, out = _run(argv)
    return ok and "Chain is good" in out, out


RUNNERS: dict[str, Callable[[Case, str], tuple[bool, str]]] = {
    "openssl": lambda case, d: openssl(case, d),
    "openssl-strict": lambda case, d: openssl(case, d, ["-x509_strict"]),
    "openssl-level2": lambda case, d: openssl(case, d, ["-auth_level", "2"]),
    "gnutls": gnutls,
    "nss": nss,
}


def versions() -> str:
    """The clients and their versions, as ``verify -v`` names them when the tests set
    ``SAFEDEPLOY_CHECKED_AGAINST``."""
    def first_line(argv: list[str]) -> str:
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        except OSError:
            return "?"
        text = (out.stdout or out.stderr).strip().splitlines()
        return text[0] if text else "?"
    openssl_v = first_line(["openssl", "version"]).split("(")[0].strip()
    gnutls_v = first_line(["certtool", "--version"]).replace("certtool", "GnuTLS certtool")
    nss_v = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libnss3"], capture_output=True,
                           text=True).stdout.strip() or "?"
    return (f"{openssl_v} (verify; -x509_strict; -auth_level 2), {gnutls_v} (--verify), "
            f"NSS {nss_v} (vfychain -u 1)")


def ask(case: Case, clients: Sequence[str] = CLIENTS) -> dict[str, tuple[bool, str]]:
    """Each client's verdict (accepted, its output) on ``case``."""
    answers: dict[str, tuple[bool, str]] = {}
    for client in clients:
        with tempfile.TemporaryDirectory(prefix=f"oracle-{client}-") as directory:
            try:
                answers[client] = RUNNERS[client](case, directory)
            except (OSError, subprocess.TimeoutExpired) as exc:
                answers[client] = (False, f"{client} could not run: {exc}")
    return answers
