"""The self-check against a real HTTP server on loopback."""

import http.server
import socket
import threading

import pytest

from certbot_safedeploy.challenges.httpcheck import check_served

TOKEN = "tok-EN_123"


class Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}

    def do_GET(self):  # noqa: N802
        status, headers, body = self.routes.get(self.path, (404, {}, b"<html>404 Not Found</html>"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Handler.routes = {}
    yield httpd.server_address[1]
    httpd.shutdown()


def check(port, **kw):
    return check_served("site.example", TOKEN, "expected", port=port, address="127.0.0.1", **kw)


def test_served_token_passes(server):
    Handler.routes[f"/.well-known/acme-challenge/{TOKEN}"] = (200, {}, b"expected\n")
    [result] = check(server)
    assert result.ok and result.definitive


def test_404_is_definitive_with_a_diagnosis(server):
    [result] = check(server)
    assert not result.ok and result.definitive
    assert "HTTP 404" in result.detail and "127.0.0.1" in result.detail and "404 Not Found" in result.detail


def test_wrong_body_is_definitive(server):
    Handler.routes[f"/.well-known/acme-challenge/{TOKEN}"] = (200, {}, b"stale-token")
    [result] = check(server)
    assert not result.ok and result.definitive and "stale-token" in result.detail


def test_redirects_are_followed(server):
    Handler.routes[f"/.well-known/acme-challenge/{TOKEN}"] = (301, {"Location": "/moved"}, b"")
    Handler.routes["/moved"] = (302, {"Location": f"http://site.example:{server}/final"}, b"")
    Handler.routes["/final"] = (200, {}, b"expected")
    [result] = check(server)
    assert result.ok, result.detail


def test_redirect_loop_is_definitive(server):
    Handler.routes[f"/.well-known/acme-challenge/{TOKEN}"] = (302, {"Location": f"/.well-known/acme-challenge/{TOKEN}"}, b"")
    [result] = check(server)
    assert not result.ok and result.definitive and "redirects" in result.detail


def test_refused_connection_is_not_definitive():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    [result] = check(port)
    assert not result.ok and not result.definitive and "cannot connect" in result.detail
