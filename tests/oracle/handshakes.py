"""Real TLS handshakes as oracles: ``openssl s_server`` serves the case, two clients connect.

* ``python-ssl``: Python's ``ssl`` (OpenSSL, Debian's security level, hostname check);
* ``nss-tstclnt``: NSS ``tstclnt`` with the anchors in a throw-away NSS database; it
  checks the path with NSS's own ``SSL_AuthCertificate`` and the name given as SNI.

Only for cases judged now (a handshake has no "at time") whose leaf key is known.
Servers run on loopback only, in the integration tests' private network namespace.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import tempfile
import time
from typing import Iterator

from tests.oracle.clients import Case, _pem, _run, _write

HANDSHAKES = ("python-ssl", "nss-tstclnt")


@contextlib.contextmanager
def serving(case: Case, key_pem: bytes, port: int, directory: str) -> Iterator[None]:
    key = os.path.join(directory, "key.pem")
    with open(key, "wb") as handle:
        handle.write(key_pem)
    os.chmod(key, 0o600)
    argv = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-quiet", "-naccept", "8",
            "-cert", _write(directory, "leaf.pem", [case.leaf]), "-key", key]
    if case.pool:
        argv += ["-cert_chain", _write(directory, "pool.pem", case.pool)]
    log = open(os.path.join(directory, "s_server.log"), "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"openssl s_server exited: {open(log.name).read()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def python_ssl(case: Case, port: int, directory: str) -> tuple[bool, str]:
    ctx = ssl.create_default_context(cafile=_write(directory, "anchors.pem", case.anchors))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=case.dns_name):
                return True, "handshake completed"
    except (ssl.SSLError, ssl.CertificateError, OSError) as exc:
        return False, str(exc)


def nss_tstclnt(case: Case, port: int, directory: str) -> tuple[bool, str]:
    db = os.path.join(directory, "nssdb")
    os.mkdir(db)
    made, out = _run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"])
    if not made:
        return False, out
    for i, cert in enumerate(case.anchors):
        added, out = _run(["certutil", "-A", "-d", f"sql:{db}", "-n", f"anchor{i}", "-t", "C,,", "-a",
                           "-i", _write(directory, f"anchor{i}.pem", [cert])])
        if not added:
            return False, out
    proc = subprocess.run(["tstclnt", "-h", "127.0.0.1", "-p", str(port), "-a", case.dns_name,
                           "-d", f"sql:{db}", "-Q"], input=b"", capture_output=True, timeout=30)
    out = (proc.stdout + proc.stderr).decode(errors="replace")
    return proc.returncode == 0 and "authentication of server cert failed" not in out, out.strip()[-300:]


def shake(case: Case, key_pem: bytes, port: int) -> dict[str, tuple[bool, str]]:
    """Each handshake client's verdict on ``case`` served with ``key_pem``."""
    with tempfile.TemporaryDirectory(prefix="oracle-handshake-") as directory:
        with serving(case, key_pem, port, directory):
            return {"python-ssl": python_ssl(case, port, directory),
                    "nss-tstclnt": nss_tstclnt(case, port, directory)}


__all__ = ["HANDSHAKES", "shake", "_pem"]
