"""dns-01 solver (RFC 8555 §8.4) over RFC 2136 UPDATE with TSIG.

Follows a CNAME at ``_acme-challenge.<name>``, finds each zone by an SOA walk,
sends one UPDATE per zone for all its values, then waits until every
authoritative server of each zone serves them.  Cleanup deletes exactly the
values it added.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from collections import defaultdict
from typing import Callable, Sequence

from .. import fsutil
from ..errors import ChallengeError
from .dnsclient import DnsClient
from .propagation import wait_for_propagation
from .settings import ChallengeSettings
from .tsigkey import TsigKey, parse_key_file

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TxtRecord:
    zone: str
    name: str  # the final owner name after CNAMEs
    value: str


def load_tsig_key(path: str, warn: Callable[[str], None] = log.warning) -> TsigKey:
    try:
        text = fsutil.read_trusted_text(path, limit=65536)
    except OSError as exc:
        raise ChallengeError(f"cannot read the TSIG key: {exc.strerror}", path=path,
                             fix="pass the tsig-keygen output file, readable by root") from None
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if mode & 0o004:
        warn(f"{path}: the TSIG key is readable by every user (mode {mode:04o}); chmod 0600 it")
    return parse_key_file(text, path)


class Dns01Solver:
    def __init__(self, settings: ChallengeSettings, warn: Callable[[str], None] = log.warning) -> None:
        if not settings.nsupdate_server:
            raise ChallengeError("dns-01 needs --safedeploy-nsupdate-server (nsupdate_server)")
        self.settings = settings
        self.warn = warn
        key = load_tsig_key(settings.tsig_key, warn) if settings.tsig_key else None
        self.client = DnsClient(settings.nsupdate_server, key, port=settings.dns_port)

    def plan(self, challenges: Sequence[tuple[str, str]]) -> list[TxtRecord]:
        """(validation name, value) pairs -> records at their final names and zones."""
        zones: dict[str, str] = {}
        records = []
        for name, value in challenges:
            final = self.client.follow_cnames(name)[-1]
            if final not in zones:
                zones[final] = self.client.find_zone(final)
            records.append(TxtRecord(zones[final], final, value))
        return records

    def add(self, records: Sequence[TxtRecord]) -> None:
        """One UPDATE per zone; if one fails, the zones already updated are undone."""
        done: list[TxtRecord] = []
        for zone, items in _by_zone(records).items():
            try:
                self.client.update(zone, [(r.name, r.value) for r in items])
            except BaseException:
                if done:
                    try:
                        self.remove(done)
                    except ChallengeError as exc:
                        self.warn(str(exc))
                raise
            done += items

    def wait(self, records: Sequence[TxtRecord]) -> float:
        waited = 0.0
        for zone, items in _by_zone(records).items():
            wanted: dict[str, set[str]] = defaultdict(set)
            for r in items:
                wanted[r.name].add(r.value)
            waited += wait_for_propagation(
                self.client.nameservers(zone), self.client.port, wanted,
                timeout=self.settings.propagation_timeout,
                unreachable_fails=self.settings.unreachable_ns == "fail", warn=self.warn)
        return waited

    def perform(self, challenges: Sequence[tuple[str, str]]) -> list[TxtRecord]:
        records = self.plan(challenges)
        self.add(records)
        try:
            self.wait(records)
        except BaseException:
            self.remove(records)
            raise
        return records

    def remove(self, records: Sequence[TxtRecord]) -> None:
        errors = []
        for zone, items in _by_zone(records).items():
            try:
                self.client.update(zone, [(r.name, r.value) for r in items], delete=True)
            except ChallengeError as exc:
                errors.append(str(exc))
        if errors:
            raise ChallengeError("cleanup left TXT records behind: " + "; ".join(errors))


def _by_zone(records: Sequence[TxtRecord]) -> dict[str, list[TxtRecord]]:
    grouped: dict[str, list[TxtRecord]] = defaultdict(list)
    for r in records:
        grouped[r.zone].append(r)
    return grouped
