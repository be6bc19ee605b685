"""Polling authoritative servers: unreachable ones fail or warn; the wait says what it waits for."""

import io
import socket
import threading
import time

import dns.message
import dns.rrset
import pytest

from certbot_safedeploy.challenges import propagation
from certbot_safedeploy.challenges.progress import Progress
from certbot_safedeploy.errors import ChallengeError

WANTED = {"_acme-challenge.x.example.test": {"v"}}


@pytest.fixture
def silent_server():
    """A UDP port that swallows queries (a firewall that drops)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


@pytest.fixture
def lagging_server():
    """A DNS server on loopback that serves the TXT value only after 1.2 s (a lagging secondary)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    start = time.monotonic()
    stop = threading.Event()

    def serve():
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                data, client = sock.recvfrom(4096)
            except OSError:
                continue
            query = dns.message.from_wire(data)
            response = dns.message.make_response(query)
            if time.monotonic() - start > 1.2:
                response.answer.append(dns.rrset.from_text(query.question[0].name, 60, "IN", "TXT", '"v"'))
            sock.sendto(response.to_wire(), client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1]
    stop.set()
    thread.join()
    sock.close()


def servers(port, ns="ns9.example.test", addresses=("127.0.0.1",)):
    return propagation.servers_for("example.test", [(ns, list(addresses))], port, WANTED)


def test_unreachable_server_fails_by_default(silent_server, monkeypatch):
    monkeypatch.setattr(propagation, "UNREACHABLE_AFTER", 0.5)
    with pytest.raises(ChallengeError, match=r"ns9\.example\.test \(127\.0\.0\.1 port \d+\) cannot be reached"):
        propagation.wait_for_propagation(servers(silent_server), timeout=5)


def test_unreachable_server_can_be_a_warning(silent_server, monkeypatch):
    monkeypatch.setattr(propagation, "UNREACHABLE_AFTER", 0.5)
    warnings = []
    propagation.wait_for_propagation(servers(silent_server), timeout=5, unreachable_fails=False,
                                     warn=warnings.append)
    assert len(warnings) == 1 and "ns9.example.test" in warnings[0] and "not waiting" in warnings[0]


def test_nameserver_without_address_is_named():
    with pytest.raises(ChallengeError, match="nameserver ns3.example.test has no address"):
        servers(53, "ns3.example.test", ())


def test_the_wait_names_the_lagging_server_and_how_long_it_took(lagging_server):
    lines, logged, terminal = [], [], io.StringIO()
    progress = Progress(lines.append, log=logged.append, live=terminal, interval=0.5)
    waited = propagation.wait_for_propagation(servers(lagging_server, "ns2.example.test"), timeout=10,
                                              progress=progress)
    assert 1.2 <= waited < 5
    assert lines[0] == ("waiting until every authoritative server serves the TXT records: "
                        f"zone example.test: ns2.example.test (127.0.0.1 port {lagging_server})")
    took = float(lines[-1].rsplit(" ", 2)[-2])
    assert lines[-1].endswith(" s") and f"ns2.example.test (127.0.0.1 port {lagging_server}) {took:.1f} s" in lines[-1]
    assert 1.2 <= took < 5
    # a periodic log line names the server still behind and what it serves
    assert logged and logged[0].startswith("still waiting after") and "ns2.example.test" in logged[0]
    assert "serves 0 of 1 values" in logged[0]
    # the terminal got live lines with the seconds, then they were cleared
    shown = terminal.getvalue()
    assert "waiting    1 s for ns2.example.test" in shown and shown.endswith("\x1b[J")
