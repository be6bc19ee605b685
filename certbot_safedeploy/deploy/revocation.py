"""The gate's revocation check: the new leaf against its own CRL, before anything is installed.

A revoked leaf is refused.  Anything else that stops the check (no
distribution point over http, a fetch that fails, a CRL that is stale, badly
signed or too large) is one warning line and the deploy goes on: browsers do not
fetch CRLs either (Chrome's CRLSets and Firefox's CRLite are pushed), and
clients that do, soft-fail.
"""

from __future__ import annotations

import dataclasses
import datetime
import os

from certbot_safedeploy.verify.crlcheck import GOOD, REVOKED, CrlVerdict, check_crl
from certbot_safedeploy.verify.leaffacts import LeafFacts
from certbot_safedeploy.verify.lineagecheck import VerifiedLineage


@dataclasses.dataclass(frozen=True)
class RevocationResult:
    refused: bool
    line: str  # "" when there is nothing to say


def check_revocation(material: VerifiedLineage, facts: LeafFacts, state_dir: str,
                     now: datetime.datetime | None = None, crl: bytes | None = None) -> RevocationResult:
    """``crl``: a CRL supplied by the caller instead of the distribution point's."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    leaf_file = f"{material.directory.rstrip('/')}/cert.pem"
    name = os.path.basename(os.path.normpath(material.directory))
    if not material.chain:
        return RevocationResult(False, "")
    if crl is not None:
        return _result(check_crl(material.leaf, material.chain[0], crl, now), leaf_file, "the CRL given", name)
    urls = [u for u in facts.crl_urls if u.lower().startswith("http://")]
    if not urls:
        return RevocationResult(False, "")
    from certbot_safedeploy.deploy import crlfetch

    url = urls[0]
    data = crlfetch.cached(state_dir, url, now)
    if data is not None:
        verdict = check_crl(material.leaf, material.chain[0], data, now)
        if verdict.status in (GOOD, REVOKED):
            return _result(verdict, leaf_file, f"{url} (cached)", name)
    try:
        data = crlfetch.fetch(url)
    except crlfetch.FetchError as exc:
        return RevocationResult(False, f"WARNING: {leaf_file}: revocation: cannot fetch the CRL: {exc} "
                                       "(not checked; clients soft-fail too)")
    verdict = check_crl(material.leaf, material.chain[0], data, now)
    if verdict.status == GOOD and verdict.next_update is not None:
        crlfetch.store(state_dir, url, data, verdict.next_update)
    return _result(verdict, leaf_file, url, name)


def _result(verdict: CrlVerdict, leaf_file: str, source: str, name: str) -> RevocationResult:
    if verdict.status == REVOKED:
        return RevocationResult(True, f"ERROR: {leaf_file}: revocation: the new certificate is revoked by its CA "
                                      f"({source}): {verdict.detail} (fix: certbot renew --cert-name {name} "
                                      "--force-renewal for a new certificate; never deploy this one)")
    if verdict.status == GOOD:
        return RevocationResult(False, f"revocation: {source}: {verdict.detail}")
    return RevocationResult(False, f"WARNING: {leaf_file}: revocation: the CRL from {source} is unusable: "
                                   f"{verdict.detail} (not checked; clients soft-fail too)")
