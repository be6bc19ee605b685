"""Fetch an http-01 token the way the CA will, before the CA is asked (RFC 8555 §8.3).

The CA connects to port 80 of every A/AAAA address of the name and follows
redirects.  A wrong status or body is definitive: the CA would fail too.  A
refused connection or a timeout is not (hairpin NAT, firewalls), so it only
warns unless the user asked for a strict check.
"""

from __future__ import annotations

import dataclasses
import http.client
import socket
import ssl
import urllib.parse

from certbot_safedeploy.syntax.acme_values import check_token

MAX_REDIRECTS = 10
MAX_BODY = 4096


@dataclasses.dataclass(frozen=True)
class HttpCheck:
    ok: bool
    definitive: bool  # False: could not connect, so the result says nothing
    detail: str


def _addresses(host: str, override: str | None) -> list[str]:
    if override:
        return [override]
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    return sorted({str(i[4][0]) for i in infos})


def _fetch(address: str, port: int, host: str, path: str, scheme: str,
           timeout: float) -> tuple[int, str | None, bytes]:
    conn: http.client.HTTPConnection
    if scheme == "https":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the CA does not verify redirect targets' certificates
        conn = http.client.HTTPSConnection(address, port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host, "User-Agent": "certbot-safedeploy self-check",
                                           "Connection": "close"})
        response = conn.getresponse()
        return response.status, response.getheader("Location"), response.read(MAX_BODY)
    finally:
        conn.close()


def check_served(domain: str, token: str, expected: str, *, port: int = 80,
                 address: str | None = None, timeout: float = 5.0) -> list[HttpCheck]:
    """One result per address of ``domain`` (or the override address)."""
    check_token(token)
    path = f"/.well-known/acme-challenge/{token}"
    addresses = _addresses(domain, address)
    if not addresses:
        return [HttpCheck(False, False, f"{domain} has no A/AAAA record this host can resolve")]
    return [_check_one(domain, a, port, path, expected, timeout, address) for a in addresses]


def _check_one(domain: str, addr: str, port: int, path: str, expected: str, timeout: float,
               override: str | None) -> HttpCheck:
    host, scheme, where = domain, "http", addr
    url = f"http://{domain}:{port}{path}"
    for _ in range(MAX_REDIRECTS + 1):
        try:
            status, location, body = _fetch(where, port, host, path, scheme, timeout)
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            return HttpCheck(False, False, f"{url} via {where}: cannot connect ({exc})")
        if status in (301, 302, 303, 307, 308) and location:
            target = urllib.parse.urlsplit(urllib.parse.urljoin(url, location))
            if target.scheme not in ("http", "https") or not target.hostname:
                return HttpCheck(False, True, f"{url} redirects to unusable {location!r}")
            scheme, path = target.scheme, target.path + (f"?{target.query}" if target.query else "")
            port = target.port or (443 if scheme == "https" else 80)
            if target.hostname != host:
                host = target.hostname
                found = _addresses(host, None)
                if not found:
                    return HttpCheck(False, False, f"redirect target {host} does not resolve here")
                where = found[0]
            url = urllib.parse.urlunsplit(target)
            continue
        text = body.decode("ascii", "replace").strip()
        if status == 200 and text == expected:
            return HttpCheck(True, True, f"{url} via {where}: token served")
        return HttpCheck(False, True, f"{url} via {where}: HTTP {status}, body starts {text[:60]!r}")
    return HttpCheck(False, True, f"{url}: more than {MAX_REDIRECTS} redirects")
