"""dns-01 solver (RFC 8555 §8.4) over RFC 2136 UPDATE with TSIG.

Follows the CNAME chain at ``_acme-challenge.<name>``, finds the owning zone and
its update server and key (:mod:`.locate`), sends one UPDATE per zone for all
its values, then waits until every authoritative server of each zone serves
them.  Added values take the TTL of the TXT set already at the name, so that set
keeps its TTL; cleanup deletes exactly the values it added.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import stat
from collections import defaultdict
from typing import Callable, Optional, Sequence

from certbot_safedeploy.system import fsutil
from certbot_safedeploy.errors import ChallengeError
from certbot_safedeploy.challenges.dnsclient import DnsClient
from certbot_safedeploy.challenges.locate import Locator, Target
from certbot_safedeploy.challenges.progress import Progress
from certbot_safedeploy.challenges.propagation import Server, servers_for, wait_for_propagation
from certbot_safedeploy.config.challenge_section import ChallengeSettings
from certbot_safedeploy.config.load import check_key_paths
from certbot_safedeploy.challenges.tsigkey import TsigKey, parse_key_file

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TxtRecord:
    zone: str
    name: str  # the final owner name after CNAMEs
    value: str
    server: str = ""  # HOST:PORT the UPDATE goes to; "" = find it again from the settings
    tsig_key: Optional[str] = None
    dns_port: Optional[int] = None  # port of the zone's authoritative servers

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, object]) -> "TxtRecord":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})  # type: ignore[arg-type]


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
    def __init__(self, settings: ChallengeSettings, warn: Callable[[str], None] = log.warning,
                 progress: Progress | None = None) -> None:
        if not settings.dns_enabled:
            raise ChallengeError("dns-01 needs --safedeploy-nsupdate-server, [[challenge.zone]] entries "
                                 "or a global TSIG key")
        check_key_paths(settings)
        self.settings = settings
        self.warn = warn
        self.progress = progress
        self.locator = Locator(settings)
        self._keys: dict[str, TsigKey] = {}
        for path in settings.key_paths():
            self.key(path)

    def key(self, path: str | None) -> TsigKey | None:
        if not path:
            return None
        if path not in self._keys:
            self._keys[path] = load_tsig_key(path, self.warn)
        return self._keys[path]

    def client(self, record: TxtRecord) -> DnsClient:
        if not record.server:  # state written before the server was recorded
            target = self.locator.target(record.name)
            record = dataclasses.replace(record, server=target.server, tsig_key=target.tsig_key)
        return DnsClient(record.server, self.key(record.tsig_key))

    def plan(self, challenges: Sequence[tuple[str, str]]) -> list[TxtRecord]:
        """(validation name, value) pairs -> records at their final names, with zone and server."""
        targets: dict[str, Target] = {}
        records = []
        for name, value in challenges:
            final = self.locator.follow_cnames(name)[-1]
            if final not in targets:
                targets[final] = self.locator.target(final)
            t = targets[final]
            records.append(TxtRecord(t.zone, final, value, t.server, t.tsig_key, t.dns_port))
        return records

    def add(self, records: Sequence[TxtRecord]) -> None:
        """One UPDATE per zone; if one fails, the zones already updated are undone."""
        done: list[TxtRecord] = []
        for items in _by_zone(records).values():
            try:
                client = self.client(items[0])
                ttls = client.txt_ttls(r.name for r in items)
                client.update(items[0].zone, [(r.name, r.value) for r in items], ttls=ttls)
            except BaseException:
                if done:
                    try:
                        self.remove(done)
                    except ChallengeError as exc:
                        self.warn(str(exc))
                raise
            done += items

    def wait(self, records: Sequence[TxtRecord]) -> float:
        servers: list[Server] = []
        for items in _by_zone(records).values():
            wanted: dict[str, set[str]] = defaultdict(set)
            for r in items:
                wanted[r.name].add(r.value)
            client = self.client(items[0])
            names, glue = client.nameservers(items[0].zone)
            nameservers = [(ns, glue.get(ns) or self.locator.addresses(ns)) for ns in names]
            servers += servers_for(items[0].zone, nameservers, items[0].dns_port or client.port, wanted,
                                   unreachable_fails=self.settings.unreachable_ns == "fail", warn=self.warn)
        return wait_for_propagation(servers, timeout=self.settings.propagation_timeout,
                                    unreachable_fails=self.settings.unreachable_ns == "fail", warn=self.warn,
                                    progress=self.progress)

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
        for items in _by_zone(records).values():
            try:
                self.client(items[0]).update(items[0].zone, [(r.name, r.value) for r in items], delete=True)
            except ChallengeError as exc:
                errors.append(str(exc))
        if errors:
            raise ChallengeError("cleanup left TXT records behind: " + "; ".join(errors))


def _by_zone(records: Sequence[TxtRecord]) -> dict[tuple[object, ...], list[TxtRecord]]:
    grouped: dict[tuple[object, ...], list[TxtRecord]] = defaultdict(list)
    for r in records:
        grouped[(r.zone, r.server, r.tsig_key, r.dns_port)].append(r)
    return grouped
