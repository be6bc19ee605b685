"""Unreachable authoritative servers: reported by name; fail or warn as the user chose."""

import socket

import pytest

from certbot_safedeploy.challenges import propagation
from certbot_safedeploy.errors import ChallengeError


@pytest.fixture
def silent_server():
    """A UDP port that swallows queries (a firewall that drops)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_unreachable_server_fails_by_default(silent_server, monkeypatch):
    monkeypatch.setattr(propagation, "UNREACHABLE_AFTER", 0.5)
    with pytest.raises(ChallengeError, match=r"ns9\.example\.test \(127\.0\.0\.1 port \d+\) cannot be reached"):
        propagation.wait_for_propagation([("ns9.example.test", ["127.0.0.1"])], silent_server,
                                         {"_acme-challenge.x": {"v"}}, timeout=5)


def test_unreachable_server_can_be_a_warning(silent_server, monkeypatch):
    monkeypatch.setattr(propagation, "UNREACHABLE_AFTER", 0.5)
    warnings = []
    propagation.wait_for_propagation([("ns9.example.test", ["127.0.0.1"])], silent_server,
                                     {"_acme-challenge.x": {"v"}}, timeout=5,
                                     unreachable_fails=False, warn=warnings.append)
    assert len(warnings) == 1 and "ns9.example.test" in warnings[0] and "not waiting" in warnings[0]


def test_nameserver_without_address_is_named():
    with pytest.raises(ChallengeError, match="nameserver ns3.example.test has no address"):
        propagation.wait_for_propagation([("ns3.example.test", [])], 53, {"n": {"v"}}, timeout=1)
