"""A pass against a hostile renewalInfo server on loopback: one line each, never due, never a traceback."""

import datetime
import json
import time

import pytest

from certbot_safedeploy.ari import record
from certbot_safedeploy.ari.certid import cert_id
from certbot_safedeploy.ari.cycle import DUE, FAILED, NOT_OFFERED, WAITING, Pass, Subject
from certbot_safedeploy.ari.fetch import Client
from tests.ari.ariserver import AriServer, Reply, window_body

NOW = datetime.datetime.now(datetime.timezone.utc)
H = datetime.timedelta(hours=1)


def one(server, client, tmp_path, leaf, reply, **kw):
    cert = leaf().cert
    if reply is not None:
        server.routes[server.info_path(cert_id(cert))] = reply
    out = Pass(str(tmp_path), client, time.time(), **kw).run([Subject("a.example", cert, server.directory)])
    assert len(out) == 1 and "\n" not in out[0].line
    return out[0], cert


def test_a_future_window_waits_and_keeps_its_choice(server, client, tmp_path, leaf):
    got, cert = one(server, client, tmp_path, leaf, Reply(200, window_body(NOW + 48 * H, NOW + 72 * H,
                                                                             "https://ca.example/ari"),
                                                           {"Retry-After": "3600"}))
    assert got.state == WAITING and "renew at" in got.line and "https://ca.example/ari" in got.line
    rec = record.load(str(tmp_path), "a.example", cert_id(cert))
    assert rec is not None and rec.window == got.window and rec.chosen == got.chosen
    assert 3500 < rec.next_check - time.time() <= 3600


def test_a_window_in_the_past_is_due(server, client, tmp_path, leaf):
    got, _ = one(server, client, tmp_path, leaf, Reply(200, window_body(NOW - 3 * H, NOW - 2 * H)))
    assert got.state == DUE and "lies in the past" in got.line


def test_a_window_that_has_started_is_due(server, client, tmp_path, leaf):
    got, _ = one(server, client, tmp_path, leaf, Reply(200, window_body(NOW - H, NOW + 5 * H)))
    assert got.state == DUE


HOSTILE = {
    "bad json": (Reply(200, b"{\"suggestedWindow\": "), "not JSON"),
    "html": (Reply(200, b"<html>maintenance</html>"), "not JSON"),
    "end before start": (Reply(200, window_body(NOW + 5 * H, NOW - 5 * H)), "before it starts"),
    "huge year": (Reply(200, json.dumps({"suggestedWindow": {"start": "2026-01-01T00:00:00Z",
                                                              "end": "999999-01-01T00:00:00Z"}}).encode()),
                  "not an RFC 3339"),
    "huge number": (Reply(200, b'{"suggestedWindow": {"start": 1e999, "end": 1' + b"0" * 10000 + b"}}"),
                    "not JSON|not an RFC"),
    "huge body": (Reply(200, b"{" + b" " * (2 << 20) + b"}"), "larger than"),
    "server error": (Reply(500, b"oops"), "HTTP 500"),
    "unknown cert": (Reply(404, b"{}"), "does not know this certificate"),
    "rate limited": (Reply(429, b"{}", {"Retry-After": "7200"}), "HTTP 429"),
    "bad url": (Reply(200, window_body(NOW - 3 * H, NOW - 2 * H, "javascript:x")), "explanationURL"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_answers_are_one_line_and_never_due(server, client, tmp_path, leaf, case):
    reply, match = HOSTILE[case]
    got, cert = one(server, client, tmp_path, leaf, reply)
    assert got.state == FAILED, got.line
    assert "nothing renewed" in got.line
    import re
    assert re.search(match, got.line), got.line
    rec = record.load(str(tmp_path), "a.example", cert_id(cert))
    assert rec is not None and rec.failures == 1 and rec.next_check > time.time() + 800
    if case == "rate limited":
        assert rec.next_check > time.time() + 7100


def test_a_redirect_to_another_host_is_refused(server, client, tmp_path, leaf):
    cert = leaf().cert
    server.routes[server.info_path(cert_id(cert))] = Reply(
        302, b"", {"Location": f"https://localhost:{server.port}/renewalInfo/elsewhere"})
    got = Pass(str(tmp_path), client, time.time()).run([Subject("a.example", cert, server.directory)])[0]
    assert got.state == FAILED and "another host" in got.line
    assert server.counts.get("/renewalInfo/elsewhere") is None


def test_a_redirect_on_the_same_host_is_followed(server, client, tmp_path, leaf):
    cert = leaf().cert
    server.routes[server.info_path(cert_id(cert))] = Reply(302, b"", {"Location": "/renewalInfo/moved"})
    server.routes["/renewalInfo/moved"] = Reply(200, window_body(NOW - 3 * H, NOW - 2 * H))
    got = Pass(str(tmp_path), client, time.time()).run([Subject("a.example", cert, server.directory)])[0]
    assert got.state == DUE


def test_a_slow_answer_times_out(server, tmp_path, leaf):
    slow = Client(cafile=str(server.ca_file), timeout=0.5, deadline=1.0)
    started = time.monotonic()
    got, _ = one(server, slow, tmp_path, leaf, Reply(200, window_body(NOW - 3 * H, NOW - 2 * H), delay=3))
    assert got.state == FAILED and "no answer within" in got.line
    assert time.monotonic() - started < 2.5


def test_a_ca_without_ari_is_one_line(tmp_path, leaf):
    with AriServer(offer_ari=False) as server:
        client = Client(cafile=str(server.ca_file))
        got, _ = one(server, client, tmp_path, leaf, None)
    assert got.state == NOT_OFFERED and "offers no renewalInfo" in got.line


def test_an_unreachable_ca(tmp_path, leaf):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    got = Pass(str(tmp_path), Client(timeout=1), time.time()).run(
        [Subject("a.example", leaf().cert, f"https://127.0.0.1:{port}/dir")])[0]
    assert got.state == FAILED and "cannot reach" in got.line


def test_untrusted_tls_is_refused(server, tmp_path, leaf):
    got, _ = one(server, Client(timeout=2), tmp_path, leaf, None)
    assert got.state == FAILED and "TLS" in got.line or "certificate" in got.line


def test_retry_after_is_honoured_across_runs(server, client, tmp_path, leaf):
    certs = [leaf(f"n{i}.example").cert for i in range(20)]
    subjects = [Subject(f"n{i}.example", c, server.directory) for i, c in enumerate(certs)]
    first = Pass(str(tmp_path), client, time.time()).run(subjects)
    assert {o.state for o in first} == {WAITING} and server.total() == 20 and client.requests == 21
    assert server.connections <= 4  # each of the 4 workers keeps its connection alive
    again = Client(cafile=str(server.ca_file))
    second = Pass(str(tmp_path), again, time.time() + 3600).run(subjects)
    assert again.requests == 0 and server.total() == 20
    assert [o.chosen for o in second] == [o.chosen for o in first]
    later = Pass(str(tmp_path), again, time.time() + 21700).run(subjects)
    assert again.requests == 21 and all(o.asked for o in later)


def test_a_due_window_stays_due_inside_retry_after(server, client, tmp_path, leaf):
    cert = leaf().cert
    server.routes[server.info_path(cert_id(cert))] = Reply(200, window_body(NOW - 3 * H, NOW - 2 * H),
                                                           {"Retry-After": "21600"})
    subject = [Subject("a.example", cert, server.directory)]
    assert Pass(str(tmp_path), client, time.time()).run(subject)[0].due
    second = Client(cafile=str(server.ca_file))
    assert Pass(str(tmp_path), second, time.time() + 60).run(subject)[0].due and second.requests == 0


def test_a_revocation_hook_makes_it_due_without_asking(server, client, tmp_path, leaf):
    got, _ = one(server, client, tmp_path, leaf, None, revoked=lambda name, cert: "listed on the CRL")
    assert got.state == DUE and "revoked" in got.line and client.requests == 0
