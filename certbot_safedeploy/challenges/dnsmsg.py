"""RFC 2136 UPDATE messages and rcode diagnoses (pure: no sockets).

One UPDATE per zone adds (or deletes) every TXT value of the challenges in that
zone.  Deletes name the exact value (RFC 2136 §2.5.4, "delete an RR from an
RRset"), so other TXT records at the same name survive, and ``example.com`` and
``*.example.com`` can share ``_acme-challenge.example.com``.
"""

from __future__ import annotations

from typing import Iterable

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring
import dns.update

from .tsigkey import TsigKey

CHALLENGE_TTL = 60


def txt_rdata(value: str) -> str:
    """Presentation form of a TXT value (ACME values are base64url: no escaping)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_update(zone: str, records: Iterable[tuple[str, str]], key: TsigKey | None, *,
                 delete: bool = False) -> dns.update.UpdateMessage:
    keyring = None
    if key is not None:
        keyring = {dns.name.from_text(key.name): dns.tsig.Key(key.name, key.secret, key.dns_algorithm)}
    update = dns.update.UpdateMessage(zone, keyring=keyring)
    for name, value in records:
        fqdn = dns.name.from_text(name)
        if delete:
            update.delete(fqdn, dns.rdatatype.TXT, txt_rdata(value))
        else:
            update.add(fqdn, CHALLENGE_TTL, dns.rdatatype.TXT, txt_rdata(value))
    return update


_RCODE_HELP = {
    dns.rcode.REFUSED: ("the server REFUSED the update",
                        "allow it: update-policy { grant KEYNAME zonesub TXT; }; in the zone, "
                        "and check that the key name matches"),
    dns.rcode.NOTAUTH: ("the server is NOT AUTHORITATIVE for the zone (NOTAUTH)",
                        "send updates to the zone's primary (--safedeploy-nsupdate-server), or the key is not accepted"),
    dns.rcode.NOTZONE: ("a name is outside the zone (NOTZONE)",
                        "check the CNAME delegation and that the zone cut was found correctly"),
    dns.rcode.SERVFAIL: ("the server failed to apply the update (SERVFAIL)",
                         "read the server's log: journal not writable, or the zone is not dynamic"),
}

_TSIG_HELP = {
    "BADKEY": ("the server does not know the TSIG key (BADKEY)",
               "use the key file the server includes; the key name and algorithm must match"),
    "BADSIG": ("the TSIG signature did not verify (BADSIG)",
               "the secret differs from the server's copy of the key"),
    "BADTIME": ("the TSIG time check failed (BADTIME): clock skew over 300 s",
                "fix the clock on this host or the server (timedatectl, chrony)"),
}


def diagnose_rcode(rcode: dns.rcode.Rcode, zone: str, server: str) -> tuple[str, str]:
    message, fix = _RCODE_HELP.get(
        rcode, (f"the server answered {dns.rcode.to_text(rcode)}", "read the server's log"))
    return f"update of zone {zone} at {server}: {message}", fix


def diagnose_tsig_error(error: Exception, zone: str, server: str) -> tuple[str, str]:
    name = type(error).__name__
    for code, (message, fix) in _TSIG_HELP.items():
        if code.lower() in name.lower() or code in str(error):
            return f"update of zone {zone} at {server}: {message}", fix
    return (f"update of zone {zone} at {server}: TSIG failure ({name}: {error})",
            "check the key file against the server's key")
