"""Every deploy reaches syslog: real datagrams on a UNIX socket standing in for /dev/log."""

import re
import socket

import pytest


@pytest.fixture
def syslog_socket(tmp_path):
    path = tmp_path / "log.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(5)
    yield str(path), sock
    sock.close()


def received(sock):
    out = []
    sock.settimeout(0.5)
    try:
        while True:
            out.append(sock.recv(65536).decode())
    except socket.timeout:
        return out


def test_success_and_failure_are_logged_with_identifier_and_facility(bed, syslog_socket):
    path, sock = syslog_socket
    assert bed.run(env={"SAFEDEPLOY_SYSLOG_SOCKET": path}).returncode == 0
    [ok] = received(sock)
    assert re.match(r"<30>certbot-safedeploy\[\d+\]: deploy example\.com: .*deployed example\.com to web, haproxy", ok)
    bed.write_config(top='[notify]\nsyslog_facility = "local3"\n')
    bed.issue()
    (bed.letsencrypt / "archive" / "example.com" / f"chain{bed.generation}.pem").write_bytes(b"<html>502</html>")
    assert bed.run(env={"SAFEDEPLOY_SYSLOG_SOCKET": path}).returncode == 1
    [err] = received(sock)
    assert err.startswith("<155>certbot-safedeploy[")  # local3.err = 19*8+3
    assert "deploy failed for example.com" in err and "chain.pem: pem: file is an HTML page" in err
    assert "\n" not in err and "PRIVATE KEY" not in err
