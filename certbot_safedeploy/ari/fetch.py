"""HTTP for ARI: the ACME directory and renewalInfo answers (RFC 9773 section 4.2), bounded.

Standard library only (``urllib``): the proxy settings of the environment apply
(``https_proxy``, ``no_proxy``: :class:`urllib.request.ProxyHandler`), as they do for
certbot run from a timer that sets them (``/etc/sysconfig/certbot`` on RHEL).  Every
request has a timeout per socket step and a deadline in all, answers are capped at
:data:`MAX_ANSWER_BYTES`, only https is spoken, and a redirect is followed only to the
same scheme, host and port (at most :data:`MAX_REDIRECTS`).  Without a proxy, each
worker thread keeps its connection to the CA alive between requests.  Trust is what certbot's
requests uses: ``$REQUESTS_CA_BUNDLE`` when set, else the system's store.
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import socket
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO, Callable

from certbot_safedeploy.syntax.renewalinfo import MAX_ANSWER_BYTES, AnswerError

MAX_REDIRECTS = 3
USER_AGENT = "certbot-safedeploy-ari/1"


class FetchError(AnswerError):
    """No usable HTTP answer (connection, TLS, timeout, redirect, size)."""


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    retry_after: str | None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> urllib.request.Request | None:
        target = urllib.parse.urljoin(req.full_url, newurl)
        if _origin(target) != _origin(req.full_url):
            raise FetchError(f"the CA redirected ({code}) to another host: {target[:200]}")
        return super().redirect_request(req, fp, code, msg, headers, target)


class Client:
    """A small, thread-safe HTTPS getter (one opener, shared by the worker threads)."""

    def __init__(self, *, timeout: float = 10.0, deadline: float = 30.0, max_bytes: int = MAX_ANSWER_BYTES,
                 cafile: str | None = None) -> None:
        self.timeout, self.deadline, self.max_bytes = timeout, deadline, max_bytes
        cafile = cafile or os.environ.get("REQUESTS_CA_BUNDLE") or None
        self.context = ssl.create_default_context(cafile=cafile)
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler(),
                                                  urllib.request.HTTPSHandler(context=self.context),
                                                  _SameOriginRedirects())
        self.requests = 0  # requests sent (for tests and the benchmark)
        self._headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        self._lock = threading.Lock()
        self._local = threading.local()  # each worker thread's kept-alive connections
        self.clock: Callable[[], float] = time.monotonic

    def get(self, url: str) -> Answer:
        """GET ``url``; an Answer for any HTTP status, FetchError when there is none."""
        if not url.startswith("https://"):
            raise FetchError(f"refusing a non-https URL: {url[:200]}")
        with self._lock:
            self.requests += 1
        started = self.clock()
        try:
            if self._proxied(url):
                return self._via_urllib(url, started)
            return self._direct(url, started)
        except FetchError:
            raise
        except (socket.timeout, TimeoutError):
            raise FetchError(f"no answer within {self.timeout:.0f} s from {_where(url)}") from None
        except ssl.SSLError as exc:
            raise FetchError(f"TLS with {_where(url)} failed: {exc.reason or exc}") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise FetchError(f"no answer within {self.timeout:.0f} s from {_where(url)}") from None
            raise FetchError(f"cannot reach {_where(url)}: {reason}") from None
        except ConnectionError as exc:
            raise FetchError(f"cannot reach {_where(url)}: {exc.strerror or exc}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(f"HTTP with {_where(url)} failed: {type(exc).__name__}: {exc}"[:300]) from None

    @staticmethod
    def _proxied(url: str) -> bool:
        """Whether the environment sends ``url`` through a proxy (as urllib's ProxyHandler decides)."""
        if "https" not in urllib.request.getproxies():
            return False
        return not urllib.request.proxy_bypass(urllib.parse.urlsplit(url).netloc)

    def _via_urllib(self, url: str, started: float) -> Answer:
        """Through the environment's proxy: urllib's opener, a new connection per request."""
        request = urllib.request.Request(url, headers=self._headers)
        try:
            response = self.opener.open(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:  # a status >= 400 is an answer, with a body
            response = exc
        with response:
            return Answer(int(response.status or 0), self._read_capped(response, started),
                          response.headers.get("Retry-After"))

    def _direct(self, url: str, started: float) -> Answer:
        """No proxy: one kept-alive connection per worker thread and origin (RFC 9112 section 9.3)."""
        for _ in range(MAX_REDIRECTS + 1):
            parts = urllib.parse.urlsplit(url)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            response, conn = self._exchange(parts.hostname or "", parts.port or 443, target)
            try:
                if response.status in (301, 302, 303, 307, 308):
                    location = urllib.parse.urljoin(url, response.getheader("Location") or "")
                    self._read_capped(response, started)
                    if _origin(location) != _origin(url):
                        raise FetchError(f"the CA redirected ({response.status}) to another host: {location[:200]}")
                    url = location
                    continue
                return Answer(response.status, self._read_capped(response, started),
                              response.getheader("Retry-After"))
            except BaseException:
                self._drop(conn)
                raise
            finally:
                if response.will_close:
                    self._drop(conn)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects from {_where(url)}")

    def _exchange(self, host: str, port: int, target: str) -> tuple[http.client.HTTPResponse,
                                                                    http.client.HTTPSConnection]:
        pool: dict[tuple[str, int], http.client.HTTPSConnection] = self._local.__dict__.setdefault("pool", {})
        for attempt in (1, 2):
            conn = pool.get((host, port))
            reused = conn is not None
            if conn is None:
                conn = pool[(host, port)] = http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                                                        context=self.context)
            try:
                conn.request("GET", target, headers=self._headers)
                return conn.getresponse(), conn
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop(conn)
                if not reused or attempt == 2:  # only a kept-alive connection the server closed is retried
                    raise
            except BaseException:
                self._drop(conn)
                raise
        raise AssertionError("unreachable")

    def _drop(self, conn: http.client.HTTPSConnection) -> None:
        pool: dict[tuple[str, int], http.client.HTTPSConnection] = self._local.__dict__.get("pool", {})
        for key, value in list(pool.items()):
            if value is conn:
                del pool[key]
        conn.close()

    def _read_capped(self, response: IO[bytes], started: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            if self.clock() - started > self.deadline:
                raise FetchError(f"the answer took longer than {self.deadline:.0f} s")
            chunk = response.read(min(16384, self.max_bytes + 1 - size))
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError(f"the answer is larger than {self.max_bytes} bytes")


def _where(url: str) -> str:
    scheme, host, port = _origin(url)
    return f"{host}:{port}" if port else host
