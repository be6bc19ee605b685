"""RFC 2136 UPDATE messages and rcode diagnoses (pure: no sockets).

One UPDATE per zone adds (or deletes) every TXT value of the challenges in that
zone.  Deletes name the exact value (RFC 2136 §2.5.4, "delete an RR from an
RRset"), so other TXT records at the same name survive, and ``example.com`` and
``*.example.com`` can share ``_acme-challenge.example.com``.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import dns.exception
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.update

from certbot_safedeploy.challenges.tsigkey import TsigKey
from certbot_safedeploy.errors import ChallengeError

CHALLENGE_TTL = 60
MAX_TEXT = 1024  # longer than any DNS name (253 octets, escaped: 4 characters each at most 1012) or TXT string


def txt_rdata(value: str) -> str:
    """Presentation form of a TXT value (ACME values are base64url: no escaping)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_update(zone: str, records: Iterable[tuple[str, str]], key: TsigKey | None, *,
                 delete: bool = False, ttls: Mapping[str, int] | None = None) -> dns.update.UpdateMessage:
    """Add (or delete) each value; an added value takes the TTL its name's TXT set already
    has (``ttls``), so the set keeps it: servers hold one TTL per RRset (RFC 2181 §5.2).

    A name, value or key dnspython refuses (too long a label, a non-ASCII byte, a
    bad base64 secret) is a :class:`ChallengeError` naming it."""
    records = list(records)
    for text in [zone, *(n for n, _ in records), *(v for _, v in records)]:
        if len(text) > MAX_TEXT:  # before dnspython: its tokenizer is slow on megabytes (2.1: minutes)
            raise ChallengeError(f"cannot build the UPDATE for zone {zone[:80]!r}: a name or value of "
                                 f"{len(text)} characters", fix="names have at most 253 octets, TXT strings 255")
    try:
        return _build_update(zone, records, key, delete=delete, ttls=ttls)
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        names = ", ".join(repr(n[:80]) for n, _ in records)
        raise ChallengeError(f"cannot build the UPDATE for zone {zone[:80]!r} ({names}): "
                             f"{type(exc).__name__}: {str(exc)[:120]}",
                             fix="names must be DNS names of at most 63 octets a label, 253 in all; "
                                 "values printable ASCII of at most 255 octets; the key secret base64") from None


def _build_update(zone: str, records: Iterable[tuple[str, str]], key: TsigKey | None, *,
                  delete: bool, ttls: Mapping[str, int] | None) -> dns.update.UpdateMessage:
    keyring = None
    if key is not None:
        keyring = {dns.name.from_text(key.name): dns.tsig.Key(key.name, key.secret, key.dns_algorithm)}
    update = dns.update.UpdateMessage(zone, keyring=keyring)
    for name, value in records:
        fqdn = dns.name.from_text(name)
        if delete:
            update.delete(fqdn, dns.rdatatype.TXT, txt_rdata(value))
        else:
            update.add(fqdn, (ttls or {}).get(name, CHALLENGE_TTL), dns.rdatatype.TXT, txt_rdata(value))
    return update


FLAVOURS = ("bind", "knot", "powerdns")


def flavour_of(version_text: str) -> str:
    """``bind``, ``knot``, ``powerdns`` or ``""`` from a ``version.bind`` CH TXT answer."""
    text = version_text.lower()
    if "knot" in text:
        return "knot"
    if "powerdns" in text:
        return "powerdns"
    if text[:1] in "0123456789" and text[:1] or "bind" in text:
        return "bind"
    return ""


def _allow_fix(zone: str, key: str, flavour: str, algorithm: str = "hmac-sha256") -> str:
    """What to change so that ``key`` may add TXT records in ``zone``, per server flavour."""
    fixes = {
        "bind": f'BIND: in zone "{zone}" set update-policy {{ grant {key} zonesub TXT; }};',
        "knot": (f"Knot: define the key ({key}.) and an acl with key: {key}. and action: update, "
                 f"and list that acl in the acl: of zone {zone} (Knot's log says 'ACL, denied')"),
        "powerdns": (f"PowerDNS: dnsupdate=yes and allow-dnsupdate-from in pdns.conf, "
                     f"pdnsutil import-tsig-key {key}. {algorithm} SECRET (the same secret as the key file), "
                     f"pdnsutil set-meta {zone} TSIG-ALLOW-DNSUPDATE {key}."),
    }
    chosen = [fixes[flavour]] if flavour in fixes else list(fixes.values())
    return "; ".join(chosen)


def _server_name(flavour: str) -> str:
    return {"bind": "BIND", "knot": "Knot DNS", "powerdns": "PowerDNS"}.get(flavour, "the server")


def diagnose_rcode(rcode: dns.rcode.Rcode, zone: str, server: str, key: str = "KEYNAME", flavour: str = "",
                   *, signed: bool = True, algorithm: str = "hmac-sha256") -> tuple[str, str]:
    """One line and a fix for an UPDATE answered with ``rcode`` (RFC 2136 §2.2)."""
    who = _server_name(flavour)
    prefix = f"update of zone {zone} at {server} ({who})" if flavour else f"update of zone {zone} at {server}"
    if not signed and flavour == "knot" and rcode == dns.rcode.NOTAUTH:
        # Knot 3.4 (Debian 13) answers an unknown key and an acl denial with an unsigned NOTAUTH;
        # Knot 3.2 (Debian 12) signed it with TSIG error BADKEY: the same two causes either way
        line, fix = diagnose_tsig_error("BADKEY", zone, server, key, flavour)
        return line.replace("NOTAUTH/BADKEY", "NOTAUTH/BADKEY (an unsigned NOTAUTH reply)", 1), fix
    if not signed:
        # PowerDNS answers any TSIG failure so; dnspython reports it as FormError
        return (f"{prefix}: the signed UPDATE got an UNSIGNED {dns.rcode.to_text(rcode)} reply: "
                f"the server rejected the TSIG key {key} (unknown name, different secret or algorithm) "
                "or does not accept updates for this zone",
                _allow_fix(zone, key, flavour, algorithm))
    if rcode == dns.rcode.REFUSED:
        return f"{prefix}: the server REFUSED the update (key {key} is not allowed to update this zone)", \
            _allow_fix(zone, key, flavour, algorithm)
    if rcode == dns.rcode.NOTAUTH:
        return (f"{prefix}: the server is NOT AUTHORITATIVE for the zone (NOTAUTH)",
                "send the updates for this zone to its primary (server of its [[challenge.zone]] entry, "
                "or --safedeploy-nsupdate-server)")
    if rcode == dns.rcode.NOTZONE:
        return (f"{prefix}: a name is outside the zone (NOTZONE)",
                "check the _acme-challenge CNAME and that the zone's SOA is where the server expects it")
    if rcode == dns.rcode.SERVFAIL:
        return (f"{prefix}: the server failed to apply the update (SERVFAIL)",
                "read the server's log: journal not writable, or the zone is not dynamic")
    return f"{prefix}: the server answered {dns.rcode.to_text(rcode)}", "read the server's log"


def diagnose_tsig_error(code: str, zone: str, server: str, key: str = "KEYNAME",
                        flavour: str = "") -> tuple[str, str]:
    """``code`` is the TSIG error (RFC 8945 §5.3): BADKEY, BADSIG or BADTIME."""
    who = _server_name(flavour)
    prefix = f"update of zone {zone} at {server} ({who})" if flavour else f"update of zone {zone} at {server}"
    if code == "BADSIG":
        return (f"{prefix}: the TSIG signature did not verify (BADSIG): the secret differs from the server's "
                f"copy of key {key}", "use the key file whose secret the server has")
    if code == "BADTIME":
        return (f"{prefix}: the TSIG time check failed (BADTIME): clock skew over 300 s",
                "fix the clock on this host or the server (timedatectl, chrony)")
    if flavour == "knot" or not flavour:
        return (f"{prefix}: NOTAUTH/BADKEY for key {key}: the server does not know the key, or (Knot) it "
                f"knows the key but the zone's acl does not allow it",
                f"check the key name and algorithm; {_allow_fix(zone, key, flavour or 'knot')}")
    return (f"{prefix}: the server does not know the TSIG key {key} (BADKEY)",
            f"the key name and algorithm must match the server's; {_allow_fix(zone, key, flavour)}")
