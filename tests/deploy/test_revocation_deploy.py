"""The revocation check through ``deploy`` with CRLs served over HTTP on loopback, and ``verify --crl``."""

import http.server
import socket
import subprocess
import sys
import threading

import pytest

from certbot_safedeploy.deploy import pipeline
from certbot_safedeploy.deploy import crlfetch
from tests.pki import DAY, NOW, cdp, make_crl, new_key


class Files(http.server.BaseHTTPRequestHandler):
    files: dict = {}

    def do_GET(self):  # noqa: N802
        body = self.files.get(self.path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def crl_server():
    handler = type("H", (Files,), {"files": {}})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler.files
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["library", "builtin"])
def engine_env(request):
    from certbot_safedeploy.verify import library

    if request.param == "library" and not library.AVAILABLE:
        pytest.skip("this cryptography has no x509.verification")
    return {"SAFEDEPLOY_VERIFY_ENGINE": request.param}


def url_of(server, path="/int.crl"):
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_revoked_leaf_is_refused(bed, crl_server, engine_env):
    server, files = crl_server
    leaf = bed.issue(extensions=[cdp(url_of(server))])
    files["/int.crl"] = make_crl(bed.pki.intermediate, [leaf.cert.serial_number])
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.REFUSED
    assert "revocation: the new certificate is revoked by its CA" in proc.stderr
    assert bed.snapshot() == {}


def test_not_revoked_deploys_and_the_cache_serves_the_next_deploy(bed, crl_server, engine_env):
    server, files = crl_server
    bed.issue(extensions=[cdp(url_of(server))])
    files["/int.crl"] = make_crl(bed.pki.intermediate, [1234])
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    assert "is not listed" in proc.stdout
    files.clear()  # the CA is down: the cached CRL (nextUpdate ahead) answers
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED and "(cached)" in proc.stdout


@pytest.mark.parametrize("case, words", [
    ("expired", "stale: nextUpdate was"),
    ("wrong signer", "signature does not verify"),
    ("unreachable", "cannot fetch the CRL"),
    ("oversized", "byte cap"),
    ("missing", "HTTP 404"),
])
def test_unusable_crl_is_one_warning_and_deploys(bed, crl_server, engine_env, case, words):
    server, files = crl_server
    url = url_of(server)
    if case == "unreachable":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            url = f"http://127.0.0.1:{s.getsockname()[1]}/int.crl"
    bed.issue(extensions=[cdp(url)])
    inter = bed.pki.intermediate
    if case == "expired":
        files["/int.crl"] = make_crl(inter, [], this_update=NOW - 9 * DAY, next_update=NOW - 2 * DAY)
    elif case == "wrong signer":
        files["/int.crl"] = make_crl(inter, [], signer_key=new_key())
    elif case == "oversized":
        files["/int.crl"] = b"\x30" * (crlfetch.MAX_BYTES + 10)
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED, proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if "revocation" in line]
    assert len(warnings) == 1 and warnings[0].startswith("WARNING: ") and words in warnings[0]


def test_https_distribution_point_is_not_fetched(bed, engine_env):
    bed.issue(extensions=[cdp("https://127.0.0.1:1/int.crl")])
    proc = bed.run(env=engine_env)
    assert proc.returncode == pipeline.DEPLOYED and "revocation" not in proc.stdout


def verify(*args):
    return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "verify", *args],
                          capture_output=True, text=True, timeout=60)


def test_verify_crl_file(bed, tmp_path):
    leaf = bed.issue()
    anchor = bed.pki.root_file(str(tmp_path))
    revoked, good = tmp_path / "revoked.crl", tmp_path / "good.crl"
    revoked.write_bytes(make_crl(bed.pki.intermediate, [leaf.cert.serial_number]))
    good.write_bytes(make_crl(bed.pki.intermediate, []))
    base = [str(bed.live), "--trust-anchor", anchor, "--domain", "example.com"]
    proc = verify(*base, "--crl", str(revoked))
    assert proc.returncode == 1 and "the certificate is revoked" in proc.stdout + proc.stderr
    assert verify(*base, "--crl", str(good)).returncode == 0
    cert_mode = verify("--cert", str(bed.live / "cert.pem"), "--chain", str(bed.live / "chain.pem"),
                       "--trust-anchor", anchor, "--domain", "example.com", "--crl", str(revoked))
    assert cert_mode.returncode == 1


def test_a_leaf_without_distribution_point_never_loads_urllib(bed):
    code = ("import sys; from certbot_safedeploy.cli import main; rc = main(['deploy']); "
            "print('URLLIB' if 'urllib.request' in sys.modules else 'NONE'); sys.exit(rc)")
    env = dict(__import__("os").environ, RENEWED_LINEAGE=str(bed.live), RENEWED_DOMAINS="example.com",
               SAFEDEPLOY_CONFIG=str(bed.config))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("NONE")
