"""Read the files of ``verify --cert FILE --chain FILE`` and check them.

The I/O half of :mod:`certbot_safedeploy.verify.standalone`: it reads at most
1 MiB per file and turns a read failure into a finding naming the file.
"""

from __future__ import annotations

import datetime
from typing import Sequence

from certbot_safedeploy.system import readfile
from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.report import Report
from certbot_safedeploy.verify.standalone import verify_cert_chain

MAX_BYTES = 1 << 20


def _read(path: str) -> tuple[bytes | None, str]:
    try:
        return readfile.read_bytes(path, MAX_BYTES), ""
    except OSError as exc:
        return None, f"cannot read: {exc.strerror}"


def verify_files(cert: str, chain: str | None, *, trust: TrustStore, domains: Sequence[str],
                 now: datetime.datetime | None = None, engine: str | None = None,
                 pin_set: Sequence[str] = ()) -> Report:
    """Check ``cert`` (one leaf) and ``chain`` (intermediates, any order) as a TLS client would."""
    cert_data, why = _read(cert)
    if cert_data is None:
        return Report(cert, [report.error(cert, "file", why, "pass a readable PEM certificate")])
    chain_data: bytes | None = None
    if chain:
        chain_data, why = _read(chain)
        if chain_data is None:
            return Report(cert, [report.error(chain, "file", why, "pass a readable PEM chain")])
    return verify_cert_chain(cert_data, chain_data, trust=trust, domains=domains,
                             now=now or datetime.datetime.now(datetime.timezone.utc),
                             cert_file=cert, chain_file=chain, engine=engine, pin_set=pin_set)
