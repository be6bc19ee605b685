"""Revoked means renew now: ``ari`` checks each deployed certificate against its CRL first.

The CRL is served over http on loopback and fetched through the gate's own bounded
client; a listed serial makes the lineage due at once, before any ARI request, and
anything that stops the check leaves the decision to the ARI window.
"""

from __future__ import annotations

import http.server
import threading

import pytest

from certbot_safedeploy.ari.revoked import crl_revocation
from certbot_safedeploy.commands.ari import run_ari
from tests.ari.test_command import config_file, fake_certbot, lineage
from tests.pki import cdp, make_cert, make_crl


@pytest.fixture
def crl_http():
    """A loopback http server answering every path with ``served['body']`` (404 when None)."""
    served: dict[str, bytes | None] = {"body": None}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the library's name
            body = served["body"]
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    served["url"] = f"http://127.0.0.1:{httpd.server_address[1]}/issuer.crl"  # type: ignore[assignment]
    yield served
    httpd.shutdown()


def _leaf(ca, url, name="revoked.example"):
    return make_cert(name, issuer=ca, sans=[name], extensions=[cdp(url)])


def test_a_listed_serial_is_named_and_an_unlisted_one_is_not(tmp_path, ca, crl_http):
    cfg = tmp_path / "le"
    leaf = _leaf(ca, crl_http["url"])
    lineage(cfg, "revoked.example", leaf, ca, "https://ca.invalid/dir")
    check = crl_revocation(str(cfg), str(tmp_path / "state"))
    crl_http["body"] = make_crl(ca, [leaf.cert.serial_number])
    listed = check("revoked.example", leaf.cert)
    assert listed and f"{leaf.cert.serial_number:x}" in listed and crl_http["url"] in listed
    crl_http["body"] = make_crl(ca, [12345])
    assert crl_revocation(str(cfg), str(tmp_path / "state2"))("revoked.example", leaf.cert) is None


def test_an_unreachable_or_broken_crl_says_nothing(tmp_path, ca, crl_http):
    cfg = tmp_path / "le"
    leaf = _leaf(ca, crl_http["url"])
    lineage(cfg, "revoked.example", leaf, ca, "https://ca.invalid/dir")
    check = crl_revocation(str(cfg), str(tmp_path / "state"))
    assert check("revoked.example", leaf.cert) is None  # 404
    crl_http["body"] = b"\x30\x03garbage"
    assert check("revoked.example", leaf.cert) is None
    wrong_signer = make_cert("other issuer", ca=True)
    crl_http["body"] = make_crl(ca, [leaf.cert.serial_number], signer_key=wrong_signer.key)
    assert check("revoked.example", leaf.cert) is None  # a forged CRL does not force a renewal


def test_ari_renews_a_revoked_lineage_without_asking_the_ca(tmp_path, ca, crl_http, client, server):
    cfg = tmp_path / "le"
    leaf = _leaf(ca, crl_http["url"])
    lineage(cfg, "revoked.example", leaf, ca, server.directory)
    crl_http["body"] = make_crl(ca, [leaf.cert.serial_number])
    certbot, log = fake_certbot(tmp_path)
    run = run_ari(str(cfg), config_file(tmp_path), certbot=certbot, client=client,
                  revoked=crl_revocation(str(cfg), str(tmp_path / "state")))
    assert run.renewed == ["revoked.example"], run.lines
    assert run.requests == 0  # decided before any ARI request
    assert "revoked (" in "\n".join(run.lines) and "--cert-name revoked.example" in log.read_text()
