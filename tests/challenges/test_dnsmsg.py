import base64

import dns.rcode
import dns.rdataclass
import dns.rdatatype

from certbot_safedeploy.challenges.dnsmsg import build_update, diagnose_rcode, diagnose_tsig_error, flavour_of
from certbot_safedeploy.challenges.tsigkey import TsigKey

KEY = TsigKey("acme-key", "hmac-sha256", b"k" * 32)


def test_one_update_adds_every_value_and_is_signed():
    msg = build_update("example.com", [("_acme-challenge.example.com", "v1"),
                                       ("_acme-challenge.example.com", "v2")], KEY)
    records = [(r.rdtype, r.ttl, b"".join(x.strings)) for r in msg.update for x in r]
    assert sorted(records) == [(dns.rdatatype.TXT, 60, b"v1"), (dns.rdatatype.TXT, 60, b"v2")]
    assert msg.keyname.to_text() == "acme-key." and msg.keyalgorithm.to_text() == "hmac-sha256."
    assert b"\x08acme-key" in msg.to_wire()  # the TSIG record is on the wire


def test_delete_names_the_exact_value():
    msg = build_update("example.com", [("_acme-challenge.example.com", "v1")], KEY, delete=True)
    [rrset] = msg.update
    assert rrset.deleting == dns.rdataclass.NONE  # RFC 2136 2.5.4: delete one RR, not the RRset
    assert [b"".join(r.strings) for r in rrset] == [b"v1"]


def test_an_existing_sets_ttl_is_kept():
    msg = build_update("example.com", [("_acme-challenge.example.com", "v1"), ("_acme-challenge.w.example.com", "v2")],
                       KEY, ttls={"_acme-challenge.example.com": 300})
    assert sorted((r.name.to_text(), r.ttl) for r in msg.update) == [
        ("_acme-challenge.example.com.", 300), ("_acme-challenge.w.example.com.", 60)]


def test_rcodes_and_tsig_errors_have_clear_messages():
    text, fix = diagnose_rcode(dns.rcode.REFUSED, "example.com", "ns:53")
    assert "REFUSED" in text
    # unknown flavour: the fix names what to allow on each of the three servers
    assert "update-policy" in fix and "acl" in fix and "TSIG-ALLOW-DNSUPDATE" in fix and "dnsupdate=yes" in fix
    assert "NOTAUTH" in diagnose_rcode(dns.rcode.NOTAUTH, "z", "s")[0]
    assert "NOTZONE" in diagnose_rcode(dns.rcode.NOTZONE, "z", "s")[0]
    text, fix = diagnose_tsig_error("BADTIME", "z", "s")
    assert "BADTIME" in text and "clock" in fix
    assert "BADKEY" in diagnose_tsig_error("BADKEY", "z", "s")[0]
    assert "BADSIG" in diagnose_tsig_error("BADSIG", "z", "s")[0]


def test_fixes_name_the_flavour_that_answered():
    assert [flavour_of(v) for v in ("9.18.19-1~deb12u1-Debian", "Knot DNS 3.2.6",
                                    "PowerDNS Authoritative Server 4.7.3", "")] == ["bind", "knot", "powerdns", ""]
    text, fix = diagnose_rcode(dns.rcode.REFUSED, "z.test", "s", "k", "bind")
    assert "(BIND)" in text and fix == 'BIND: in zone "z.test" set update-policy { grant k zonesub TXT; };'
    text, fix = diagnose_tsig_error("BADKEY", "z.test", "s", "k", "knot")
    assert "acl" in text and "acl: of zone z.test" in fix and "update-policy" not in fix
    text, fix = diagnose_rcode(dns.rcode.REFUSED, "z.test", "s", "k", "powerdns", signed=False)
    assert "UNSIGNED REFUSED" in text and "pdnsutil set-meta z.test TSIG-ALLOW-DNSUPDATE k." in fix
    # Knot 3.4 answers an unknown key or an acl denial with an unsigned NOTAUTH (3.2 signed BADKEY)
    text, fix = diagnose_rcode(dns.rcode.NOTAUTH, "z.test", "s", "k", "knot", signed=False)
    assert "(Knot DNS): NOTAUTH/BADKEY (an unsigned NOTAUTH reply) for key k" in text
    assert "acl: of zone z.test" in fix
