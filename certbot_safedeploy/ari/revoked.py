"""Revoked means renew now: the deployed certificate against its CA's CRL, for ``ari``.

RFC 9773 lets a CA move the renewal window into the past, but a CA that revokes
without doing so (or one without ARI) still publishes the revocation in its CRL
(RFC 5280 §5).  Each lineage's ``live/<name>/cert.pem`` is checked against the CRL
its distribution point names, through the gate's bounded fetch and cache
(:mod:`certbot_safedeploy.deploy.crlfetch`); a listed serial makes the lineage due
before any ARI request.  Anything that stops the check (no http CDP, a failed
fetch, an unusable CRL) says nothing: the ARI window then decides, as without a CRL.
"""

from __future__ import annotations

import datetime
import os
from typing import Callable

from cryptography import x509

from certbot_safedeploy.verify.crlcheck import REVOKED, check_crl

Fetch = Callable[[str], bytes]


def _issuer(config_dir: str, name: str) -> x509.Certificate | None:
    """The first certificate of ``live/<name>/chain.pem``: the leaf's issuer in a certbot lineage."""
    from certbot_safedeploy.material.lineage import read_lineage
    from certbot_safedeploy.verify.pem import expect_certificates

    data = read_lineage(os.path.join(config_dir, "live", name)).contents.get("chain.pem")
    try:
        return x509.load_der_x509_certificate(expect_certificates(data)[0].der) if data else None
    except Exception:  # noqa: BLE001 - a damaged lineage is the gate's to judge, not this check's
        return None


def crl_revocation(config_dir: str, state_dir: str, *, fetch: Fetch | None = None,
                   now: datetime.datetime | None = None) -> Callable[[str, x509.Certificate], str | None]:
    """A :data:`certbot_safedeploy.ari.cycle.RevocationCheck` over the lineages in ``config_dir``."""
    from certbot_safedeploy.deploy import crlfetch
    from certbot_safedeploy.verify.leaffacts import crl_urls

    def revoked(name: str, cert: x509.Certificate) -> str | None:
        when = now or datetime.datetime.now(datetime.timezone.utc)
        urls = [u for u in crl_urls(cert) if u.lower().startswith("http://")]
        issuer = _issuer(config_dir, name) if urls else None
        if issuer is None:
            return None
        data = crlfetch.cached(state_dir, urls[0], when)
        if data is None:
            try:
                data = (fetch or crlfetch.fetch)(urls[0])
            except (crlfetch.FetchError, OSError):
                return None
        verdict = check_crl(cert, issuer, data, when)
        if verdict.next_update is not None and verdict.status != REVOKED:
            try:
                crlfetch.store(state_dir, urls[0], data, verdict.next_update)
            except OSError:
                pass
        return f"{verdict.detail}, by {urls[0]}" if verdict.status == REVOKED else None

    return revoked
