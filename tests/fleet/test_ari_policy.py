"""The central host follows the CA's renewal windows (RFC 9773) when it offers them."""

import dataclasses
import datetime
import json

import pytest
from cryptography import x509

from certbot_safedeploy.ari.certid import cert_id
from certbot_safedeploy.fleet.renew import renew
from certbot_safedeploy.fleet.rules import renewal_policy as policy
from tests.ari.ariserver import AriServer, Reply, window_body
from tests.fleet.conftest import now
from tests.fleet.test_renew import enrolled

NOW = datetime.datetime.now(datetime.timezone.utc)
H = datetime.timedelta(hours=1)


@pytest.fixture
def ca_server(monkeypatch):
    with AriServer() as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        yield server


def published_cert(store, name):
    (cand,) = [c for c in store.candidates() if c.state.name == name]
    return x509.load_pem_x509_certificate(cand.cert_pem.encode())


def test_policy_follows_the_window_and_keeps_a_safety_margin():
    state = policy.RenewalState("a", "p", "p", 0, 90 * 86400, False, 0, None)
    assert policy.renewal_reason(state, 70 * 86400, 1 / 3) is not None          # own policy: due
    assert policy.renewal_reason(state, 70 * 86400, 1 / 3, (False, "renew at ...")) is None  # the CA says later
    assert "ARI" in policy.renewal_reason(state, 10 * 86400, 1 / 3, (True, "the window lies in the past"))
    assert policy.renewal_reason(state, 89 * 86400, 1 / 3, (False, "later")) is not None  # 1 day left


def test_a_window_in_the_past_issues_at_once_and_status_shows_it(fleet, ca_server):
    config, settings, store, _ = enrolled(fleet, "a", "b")
    assert renew(config, settings, store, now=now()).issued == ["a", "b"]
    settings = dataclasses.replace(settings, ari_directory=ca_server.directory)
    first = published_cert(store, "a")
    ca_server.routes[ca_server.info_path(cert_id(first))] = Reply(
        200, window_body(NOW - 5 * H, NOW - 4 * H, "https://ca.example/incident"), {"Retry-After": "21600"})
    run = renew(config, settings, store, now=now())
    assert run.issued == ["a"], run.lines  # b's window lies 20 days ahead, and a third of 90 days is not reached
    assert any(line.startswith("a: issued") and "the CA's renewal window (ARI)" in line for line in run.lines)
    assert published_cert(store, "a").serial_number != first.serial_number
    # the new certificate has a window ahead: not due; b still inside Retry-After: not asked again
    asked = ca_server.total()
    run = renew(config, settings, store, now=now())
    assert run.issued == [] and ca_server.total() == asked + 1

    cfg = fleet.root / "web1" / "safedeploy.toml"
    cfg.write_text(cfg.read_text().replace("[fleet]\n", f'[fleet]\nari_directory = "{ca_server.directory}"\n'))
    status = fleet.cli(cfg, "status", "--json")
    rows = {r["name"]: r for r in json.loads(status.stdout)}
    assert rows["a"]["ari_window"] and rows["b"]["ari_window"].endswith(")") and "renew at" in rows["b"]["ari_window"]
    table = fleet.cli(cfg, "status").stdout
    assert "ARI WINDOW" in table.splitlines()[0]


def test_a_ca_without_ari_leaves_the_own_policy(fleet, monkeypatch):
    with AriServer(offer_ari=False) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(server.ca_file))
        config, settings, store, _ = enrolled(fleet, "a")
        renew(config, settings, store, now=now())
        settings = dataclasses.replace(settings, ari_directory=server.directory)
        run = renew(config, settings, store, now=now() + 61 * 86400)
    assert run.issued == ["a"]
    assert any("offers no renewalInfo (ARI): the fleet's own policy applies" in line for line in run.lines)
