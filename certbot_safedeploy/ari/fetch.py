"""HTTP for ARI: the ACME directory and renewalInfo answers (RFC 9773 section 4.2), bounded.

Standard library only (``urllib``): the proxy settings of the environment apply
(``https_proxy``, ``no_proxy``: :class:`urllib.request.ProxyHandler`), as they do for
certbot run from a timer that sets them (``/etc/sysconfig/certbot`` on RHEL).  Every
request has a timeout per socket step and a deadline in all, answers are capped at
:data:`MAX_ANSWER_BYTES`, only https is spoken, and a redirect is followed only to the
same scheme, host and port (at most :data:`MAX_REDIRECTS`).  Trust is what certbot's
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
        self._lock = threading.Lock()
        self.clock: Callable[[], float] = time.monotonic

    def get(self, url: str) -> Answer:
        """GET ``url``; an Answer for any HTTP status, FetchError when there is none."""
        if not url.startswith("https://"):
            raise FetchError(f"refusing a non-https URL: {url[:200]}")
        with self._lock:
            self.requests += 1
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        started = self.clock()
        try:
            try:
                response = self.opener.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:  # a status >= 400 is an answer, with a body
                response = exc
            with response:
                status = int(response.status or 0)
                retry_after = response.headers.get("Retry-After")
                body = self._read_capped(response, started)
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
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchError(f"HTTP with {_where(url)} failed: {type(exc).__name__}: {exc}"[:300]) from None
        return Answer(status, body, retry_after)

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
