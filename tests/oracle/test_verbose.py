"""``verify -v`` names the clients its verdict was checked against, when the test suite says so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from certbot_safedeploy.commands.verify import CHECKED_AGAINST_ENV
from tests.oracle import clients
from tests.oracle.clients import Case
from tests.pki import NOW, Pki

pytestmark = pytest.mark.skipif(bool(clients.missing_tools()), reason="client oracles missing")


def verify(tmp_path, cert, chain, root, name, env):
    paths = {}
    for part, data in (("cert", cert), ("chain", chain), ("root", root)):
        paths[part] = tmp_path / f"{part}.pem"
        paths[part].write_bytes(data)
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "verify", "-v", "--cert", str(paths["cert"]),
                           "--chain", str(paths["chain"]), "--trust-anchor", str(paths["root"]), "--domain", name],
                          capture_output=True, text=True, timeout=60, env=env)


@pytest.mark.parametrize("san,name", [("example.com", "example.com"), ("*.test", "probe.test")])
def test_verbose_names_the_clients_that_agree(tmp_path, san, name):
    pki = Pki.create()
    leaf = pki.leaf(san)
    answers = clients.ask(Case(san, leaf.cert, [pki.intermediate.cert], [pki.root.cert], name, NOW))
    checked = clients.versions()
    env = dict(os.environ, **{CHECKED_AGAINST_ENV: checked})
    out = verify(tmp_path, leaf.pem, pki.intermediate.pem, pki.root.pem, name, env)
    assert f"clients: this verdict was checked against {checked}" in out.stdout, out.stdout
    gate_ok = out.returncode == 0
    # the verdict shown is the one the name-checking clients reach
    assert all(answers[c][0] is gate_ok for c in clients.NAME_CHECKING), (out.stdout, answers)
    if not gate_ok:
        assert "wildcard over the top-level domain test" in out.stdout


def test_run_time_names_no_client(tmp_path):
    pki = Pki.create()
    leaf = pki.leaf("example.com")
    env = {k: v for k, v in os.environ.items() if k != CHECKED_AGAINST_ENV}
    out = verify(tmp_path, leaf.pem, pki.intermediate.pem, pki.root.pem, "example.com", env)
    assert out.returncode == 0 and "clients:" not in out.stdout
