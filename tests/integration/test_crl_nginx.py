"""The gate's CRL check against CRLs served by a real nginx on loopback.

Covers revoked, not revoked, an expired CRL, a wrong signer, an unreachable
distribution point and an oversized CRL; only a revoked leaf is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from certbot_safedeploy.deploy import crlfetch, pipeline
from tests.deploy.conftest import DeployBed
from tests.pki import DAY, NOW, Pki, cdp, make_crl, new_key

from .servers import Nginx, free_port


@pytest.fixture
def crl_site(tmp_path: Path) -> Iterator[tuple[Nginx, Path]]:
    webroot = tmp_path / "crls"
    webroot.mkdir()
    nginx = Nginx(tmp_path / "nginx", http_port=free_port(), webroot=webroot).start()
    yield nginx, webroot
    nginx.stop()


@pytest.fixture
def bed(tmp_path: Path) -> DeployBed:
    b = DeployBed(tmp_path / "bed", Pki.create())
    b.root.mkdir()
    b.dest.mkdir()
    b.write_config()
    return b


@pytest.mark.parametrize("case", ["revoked", "good", "expired", "wrong signer", "unreachable", "oversized"])
def test_crl_cases_through_deploy(bed: DeployBed, crl_site: tuple[Nginx, Path], case: str) -> None:
    nginx, webroot = crl_site
    port = free_port() if case == "unreachable" else nginx.http_port
    leaf = bed.issue(extensions=[cdp(f"http://127.0.0.1:{port}/int.crl")])
    inter = bed.pki.intermediate
    body = {
        "revoked": lambda: make_crl(inter, [leaf.cert.serial_number]),
        "good": lambda: make_crl(inter, [7]),
        "expired": lambda: make_crl(inter, [leaf.cert.serial_number], this_update=NOW - 9 * DAY,
                                    next_update=NOW - DAY),
        "wrong signer": lambda: make_crl(inter, [leaf.cert.serial_number], signer_key=new_key()),
        "unreachable": lambda: b"",
        "oversized": lambda: b"\x30\x84" + b"\x00" * (crlfetch.MAX_BYTES + 1),
    }[case]()
    (webroot / "int.crl").write_bytes(body)
    proc = bed.run()
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if "revocation" in line]
    assert len(lines) == 1, proc.stdout + proc.stderr
    if case == "revoked":
        assert proc.returncode == pipeline.REFUSED and lines[0].startswith("ERROR: ")
        assert bed.snapshot() == {}
        return
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    if case == "good":
        assert "is not listed" in lines[0]
    else:
        assert lines[0].startswith("WARNING: ") and "clients soft-fail too" in lines[0]
