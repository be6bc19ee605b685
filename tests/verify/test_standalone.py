"""verify --cert/--chain: the chain judged as a client's pool; in-process and as a command."""

import json
import subprocess
import sys

from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.standalone import verify_cert_chain
from tests.pki import NOW, Pki


def run(leaf, chain, trust, engine, domains=("example.com",)):
    chain_pem = b"".join(c.pem for c in chain) if chain else None
    return verify_cert_chain(leaf.pem, chain_pem, trust=trust, domains=list(domains), now=NOW,
                             cert_file="leaf.pem", chain_file="chain.pem" if chain else None, engine=engine)


def test_pool_in_any_order_passes_with_an_order_warning(engine):
    pki = Pki.create()
    trust = TrustStore([pki.root.cert], "root")
    leaf = pki.leaf("example.com", "www.example.com")
    report = run(leaf, [pki.intermediate], trust, engine, domains=["example.com", "www.example.com"])
    assert report.ok and not report.warnings, [f.line() for f in report.findings]
    upper = Pki.create("Upper")
    from tests.pki import make_cert

    inter2 = make_cert("Second", issuer=upper.root, ca=True)
    inter1 = make_cert("First", issuer=inter2, ca=True)
    deep = make_cert("example.com", issuer=inter1, sans=["example.com"])
    report = run(deep, [inter2, inter1, pki.intermediate], TrustStore([upper.root.cert], "u"), engine)
    assert report.ok, [f.line() for f in report.findings]
    checks = sorted(w.check for w in report.warnings)
    assert checks == ["chain", "order"], [f.line() for f in report.findings]


def test_refusals_without_a_key(engine):
    pki = Pki.create()
    trust = TrustStore([pki.root.cert], "root")
    leaf = pki.leaf("example.com")
    assert not run(leaf, None, trust, engine).ok  # the intermediate is missing
    assert any(f.check == "names" for f in run(leaf, [pki.intermediate], trust, engine, ["x.org"]).errors)
    report = verify_cert_chain(b"garbage", None, trust=trust, domains=[], now=NOW, cert_file="leaf.pem",
                               chain_file=None, engine=engine)
    assert [f.check for f in report.errors] == ["pem"]


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_cli_cert_chain_mode_and_engine_report(tmp_path):
    pki = Pki.create()
    leaf = pki.leaf("example.com")
    (tmp_path / "leaf.pem").write_bytes(leaf.pem)
    (tmp_path / "chain.pem").write_bytes(pki.intermediate.pem)
    root = pki.root_file(str(tmp_path))
    base = ["verify", "--cert", str(tmp_path / "leaf.pem"), "--trust-anchor", root, "--domain", "example.com"]
    good = cli(*base, "--chain", str(tmp_path / "chain.pem"), "-v")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "engine: " in good.stdout and "decided trust" in good.stdout
    forced = cli(*base, "--chain", str(tmp_path / "chain.pem"), "-v",
                 env={"SAFEDEPLOY_VERIFY_ENGINE": "builtin", "PATH": "/usr/bin:/bin"})
    assert "engine: built-in decided trust" in forced.stdout, forced.stdout + forced.stderr
    missing = cli(*base, "--json")
    assert missing.returncode == 1 and json.loads(missing.stdout)["findings"][0]["check"] == "trust"
    assert cli("verify", "--chain", str(tmp_path / "chain.pem")).returncode == 2
    assert cli("verify").returncode == 2
    from certbot_safedeploy.verify.pincheck import pin_of_certificate

    pinned = cli(*base, "--chain", str(tmp_path / "chain.pem"), "--pin", pin_of_certificate(pki.root.cert))
    assert pinned.returncode == 0 and "backup pin" in pinned.stdout, pinned.stdout
    wrong_pin = cli(*base, "--chain", str(tmp_path / "chain.pem"), "--pin", pin_of_certificate(pki.leaf("x").cert))
    assert wrong_pin.returncode == 1 and "pins:" in wrong_pin.stdout
    unreadable = cli("verify", "--cert", str(tmp_path / "nope.pem"), "--trust-anchor", root)
    assert unreadable.returncode == 1 and "nope.pem: file:" in unreadable.stdout
