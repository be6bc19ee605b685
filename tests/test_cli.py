"""The verify and pins commands as a user runs them."""

import json
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from certbot_safedeploy.verify.pincheck import pin_of_certificate
from tests.pki import Pki, write_lineage


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", *args], capture_output=True, text=True,
                          timeout=60, env=env)


def test_verify_exit_codes_json_and_pins(tmp_path):
    pki = Pki.create()
    leaf = pki.leaf("example.com")
    live = write_lineage(str(tmp_path), "example.com", leaf, [pki.intermediate])
    root = pki.root_file(str(tmp_path))
    good = cli("verify", live, "--trust-anchor", root, "--domain", "example.com",
               "--pin", pin_of_certificate(leaf.cert))
    assert good.returncode == 0, good.stdout
    assert "OK (0 error(s), 1 warning(s))" in good.stdout and "backup pin" in good.stdout
    system = cli("verify", live, "--domain", "example.com")  # the system bundle does not trust our root
    assert system.returncode == 1 and "ERROR:" in system.stdout and "trust" in system.stdout
    as_json = json.loads(cli("verify", live, "--trust-anchor", root, "--domain", "other.com", "--json").stdout)
    assert as_json["ok"] is False
    [names] = [f for f in as_json["findings"] if f["check"] == "names"]
    assert names["severity"] == "error" and names["fix"]
    assert cli("verify", live, "--pin", "sha256/nope").returncode == 2


def test_pins_of_every_kind_of_file(tmp_path):
    pki = Pki.create()
    leaf = pki.leaf("example.com")
    expected = pin_of_certificate(leaf.cert)
    files = {
        "cert.pem": leaf.pem,
        "key.pem": leaf.key_pem,
        "pub.pem": leaf.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo),
        "req.csr": x509.CertificateSigningRequestBuilder().subject_name(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")])).sign(
            leaf.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    proc = cli("pins", *(str(tmp_path / n) for n in files))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 4 and all(line.startswith(expected) for line in lines)
    assert "PRIVATE" not in proc.stdout
    (tmp_path / "empty.pem").write_bytes(b"")
    bad = cli("pins", str(tmp_path / "empty.pem"))
    assert bad.returncode == 1 and "empty.pem: file is empty" in bad.stderr
