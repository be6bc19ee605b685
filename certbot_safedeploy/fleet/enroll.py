"""``fleet enroll`` and ``fleet rekey``: make a key here, publish only its CSR.

Keys are created 0600 by :class:`.localstate.LocalFleet` and never leave this
host.  A rekey writes the new key beside the live one (``privkey.next.pem``);
the live key keeps serving until ``fleet pull`` installs the certificate for
the new key, so pin sets can list both pins in the meantime (RFC 7469 §4.3).
"""

from __future__ import annotations

import dataclasses

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.rules import csr
from certbot_safedeploy.fleet.localstate import KEY, NEXT_KEY, Enrollment, LocalFleet, check_name
from certbot_safedeploy.config.fleet_section import FleetSettings
from certbot_safedeploy.fleet.db.store import Store


@dataclasses.dataclass(frozen=True)
class EnrollResult:
    name: str
    pin: str
    lines: tuple[str, ...]


def enroll(settings: FleetSettings, store: Store, local: LocalFleet, name: str, domains: list[str],
           key_type: str, *, now: int, takeover: bool = False) -> EnrollResult:
    check_name(name)
    wanted = csr.check_domains(domains)
    existing = local.read_key(name, KEY)
    lines = []
    created = False
    if existing is None:
        existing = csr.generate_key(key_type)
        path = local.create_key(name, KEY, existing)
        created = True
        lines.append(f"created {path} ({key_type}, 0600)")
    else:
        lines.append(f"reusing the existing key {local.path(name, KEY)}")
        old = local.enrollment(name)
        key_type = old.key_type if old else key_type
    pin = csr.key_pin(existing)
    request = csr.build_csr(existing, wanted).decode("ascii")
    store.migrate()
    try:
        store.enroll(name, wanted, key_type, settings.server, request, pin, now, takeover=takeover)
    except FleetError:
        if created:  # the store never saw this key: leave no orphan behind
            local.discard_key(name, KEY)
        raise
    local.write_enrollment(Enrollment(name, wanted, key_type))
    lines.append(f"enrolled {name} for {', '.join(wanted)} as server {settings.server!r} in {store.label}")
    lines.append(f"pin-sha256: {pin}")
    return EnrollResult(name, pin, tuple(lines))


def rekey(settings: FleetSettings, store: Store, local: LocalFleet, name: str, *, now: int,
          key_type: str | None = None, restart: bool = False) -> tuple[str, str, list[str]]:
    """Publish a CSR for a new key; return (old pin, new pin, lines)."""
    e = local.enrollment(check_name(name))
    current = local.read_key(name, KEY)
    if e is None or current is None:
        raise FleetError(f"{name!r} is not enrolled on this server", path=local.path(name, KEY),
                         fix=f"fleet enroll {name} --domain ...")
    lines = []
    if local.read_key(name, NEXT_KEY) is not None:
        if not restart:
            raise FleetError("a rekey is already pending (its certificate is not installed yet)",
                             path=local.path(name, NEXT_KEY),
                             fix="wait for fleet renew + fleet pull, or pass --restart to make another key")
        local.discard_next_key(name)
        lines.append("discarded the pending key of the earlier rekey")
    kind = key_type or e.key_type
    new_key = csr.generate_key(kind)
    path = local.create_key(name, NEXT_KEY, new_key)
    old_pin, new_pin = csr.key_pin(current), csr.key_pin(new_key)
    try:
        store.enroll(name, e.domains, kind, settings.server, csr.build_csr(new_key, e.domains).decode("ascii"),
                     new_pin, now)
    except FleetError:
        local.discard_next_key(name)
        raise
    if kind != e.key_type:
        local.write_enrollment(Enrollment(name, e.domains, kind))
    lines += [f"created {path} ({kind}, 0600); the old key stays live until the new certificate is installed",
              f"old pin-sha256: {old_pin}", f"new pin-sha256: {new_pin}",
              "add the new pin to pin sets now; remove the old one after the next pull"]
    return old_pin, new_pin, lines
