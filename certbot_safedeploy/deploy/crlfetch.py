"""Fetch a CRL from a distribution point, bounded and cached (I/O).

* ``http://`` only: CRLs are signed objects served over plain HTTP (RFC 5280 §4.2.1.13);
  following https or ldap would make revocation depend on another TLS stack;
* a short timeout and a size cap, redirects not followed;
* a cache in ``STATE_DIR/crl/`` keyed by the URL (its SHA-256) and the CRL's
  nextUpdate: a cached CRL is used until its nextUpdate, then fetched again.

urllib is imported here only, so a deploy of a leaf without a distribution point
never loads it.
"""

from __future__ import annotations

import datetime
import glob
import hashlib
import os

from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.system import fsutil

TIMEOUT = 5.0
MAX_BYTES = 8 << 20
CACHE_DIR = "crl"


class FetchError(OSError):
    """The CRL could not be fetched; the message says why."""


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def cached(state_dir: str, url: str, now: datetime.datetime) -> bytes | None:
    """A cached CRL for ``url`` whose nextUpdate has not passed; stale entries are removed."""
    for path in sorted(glob.glob(os.path.join(state_dir, CACHE_DIR, f"{_key(url)}-*.crl")), reverse=True):
        try:
            next_update = int(os.path.basename(path)[:-4].rsplit("-", 1)[1])
        except ValueError:
            continue
        if next_update <= now.timestamp():
            fsutil.unlink_quietly([path])
            continue
        try:
            with open(path, "rb") as handle:
                return handle.read(MAX_BYTES + 1)
        except OSError:
            continue
    return None


def store(state_dir: str, url: str, data: bytes, next_update: datetime.datetime) -> None:
    directory = os.path.join(state_dir, CACHE_DIR)
    try:
        fsutil.make_private_dir(directory, mode=0o700)
        fsutil.write_file_atomic(os.path.join(directory, f"{_key(url)}-{int(next_update.timestamp())}.crl"),
                                 data, fsutil.FileSpec(mode=0o600))
    except (OSError, SafeDeployError):
        pass  # a cache that cannot be written only costs a fetch next time


def fetch(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> bytes:
    """GET ``url`` (http only, no redirects); raises :class:`FetchError`."""
    import urllib.error
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise FetchError(f"{url}: only http:// distribution points are fetched")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, headers={"User-Agent": "certbot-safedeploy"})
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"{url}: {int(length)} bytes, over the {max_bytes}-byte cap")
            data: bytes = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from None
    except FetchError:
        raise
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {reason}") from None
    if len(data) > max_bytes:
        raise FetchError(f"{url}: over the {max_bytes}-byte cap")
    return data
