"""The fleet pull runs the change gate of the deploy pipeline: refusals install nothing."""

from tests.fleet.test_pull import setup_issued


def test_pull_refuses_a_certificate_without_client_auth_for_a_client_target(fleet):
    cfg = setup_issued(fleet)
    fleet.server_config("web1", extra='uses = ["server", "client"]')
    r = fleet.cli(cfg, "pull")
    assert r.returncode != 0 and "clientAuth" in r.stderr
    assert not (fleet.root / "web1/tls/site.crt").exists()


def test_pull_applies_key_types(fleet):
    cfg = setup_issued(fleet)
    fleet.server_config("web1", extra='key_types = ["rsa"]')
    r = fleet.cli(cfg, "pull")
    assert r.returncode != 0 and "key_types = ['rsa']" in r.stderr
    assert not (fleet.root / "web1/tls/site.crt").exists()
    fleet.server_config("web1", extra='key_types = ["rsa", "ecdsa"]')
    r = fleet.cli(cfg, "pull")
    assert r.returncode == 0, r.stderr
