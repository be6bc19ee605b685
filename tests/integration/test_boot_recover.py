"""Boot: an install SIGKILLed between two renames is made whole by the unit's command
before nginx starts; nginx then serves one consistent generation."""

from __future__ import annotations

import shlex
import subprocess
import sys

from cryptography.hazmat.primitives.serialization import Encoding

from certbot_safedeploy.deploy import tlsclient
from tests.deploy.conftest import DeployBed, served_set
from tests.pki import Pki

from .servers import Nginx, free_port


def exec_start(bed: DeployBed) -> list[str]:
    """The ExecStart= of the unit `recover --print-unit` renders for this installation."""
    unit = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "recover", "--print-unit", "--config", str(bed.config)],
                          capture_output=True, text=True, check=True).stdout
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    return shlex.split(line[len("ExecStart="):])


def test_killed_install_is_whole_before_nginx_starts(tmp_path):
    bed = DeployBed(tmp_path, Pki.create("Boot"))
    bed.dest.mkdir()
    bed.issue()
    bed.write_config()
    assert bed.run().returncode == 0
    new = bed.issue()
    proc = bed.run(env={"SAFEDEPLOY_TEST_KILL_AT": f"renamed:{bed.dest}/site.crt"})
    assert proc.returncode == -9  # "power loss" with the new certificate beside the old key
    nginx = Nginx(tmp_path / "nginx", tls_port=free_port(), cert=bed.dest / "site.crt", key=bed.dest / "site.key")
    mixed = subprocess.run(nginx.check_argv(), capture_output=True, text=True)
    assert mixed.returncode != 0 and "key values mismatch" in mixed.stderr  # nginx would not start

    boot = subprocess.run(exec_start(bed), capture_output=True, text=True, timeout=60)
    assert boot.returncode == 0, boot.stderr
    assert "example.com: recovered an interrupted install of 3 file(s)" in boot.stdout
    assert served_set(bed) == new.cert.serial_number

    nginx.start()
    try:
        served = tlsclient.fetch("127.0.0.1", nginx.tls_port or 0, "example.com", 5)
    finally:
        nginx.stop()
    assert served.leaf == new.cert.public_bytes(Encoding.DER)
    assert served.chain == (bed.pki.intermediate.cert.public_bytes(Encoding.DER),)
