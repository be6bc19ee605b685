"""Seed material for the fuzz suite: the project's own test PKI, configs and protocol transcripts.

Built once per process (key generation is the slow part) and kept as bytes, so a
mutated case is always "a real input, damaged".
"""

from __future__ import annotations

import base64
import functools
from typing import Dict, List

import dns.message
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from tests.pki import Pki, new_key

DER = serialization.Encoding.DER


@functools.lru_cache(maxsize=1)
def pki() -> Dict[str, bytes]:
    p = Pki.create("Fuzz")
    leaf = p.leaf("example.com", "www.example.com")
    rsa_leaf = p.leaf("rsa.example.com", key_kind="rsa")
    ed_leaf = p.leaf("ed.example.com", key_kind="ed25519")
    key = new_key()
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com")]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("example.com")]), critical=False)
           .sign(key, hashes.SHA256()))
    ec_sec1 = leaf.key.private_bytes(serialization.Encoding.PEM,  # type: ignore[attr-defined]
                                     serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
    return {
        "root": p.root.pem, "intermediate": p.intermediate.pem, "leaf": leaf.pem, "leaf_key": leaf.key_pem,
        "leaf_key_sec1": ec_sec1, "rsa_leaf": rsa_leaf.pem, "rsa_key": rsa_leaf.key_pem,
        "ed_leaf": ed_leaf.pem, "ed_key": ed_leaf.key_pem,
        "leaf_der": leaf.cert.public_bytes(DER), "intermediate_der": p.intermediate.cert.public_bytes(DER),
        "root_der": p.root.cert.public_bytes(DER),
        "csr": csr.public_bytes(serialization.Encoding.PEM), "csr_key": key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        "public": leaf.cert.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo),
    }


def pem_files() -> List[bytes]:
    m = pki()
    return [m["leaf"], m["leaf"] + m["intermediate"], m["leaf_key"], m["leaf_key_sec1"], m["rsa_key"], m["ed_key"],
            m["csr"], m["public"], m["rsa_leaf"], m["root"] + m["intermediate"]]


CONFIG = b'''trust_anchors = ["/etc/ssl/certs/ca-certificates.crt"]
state_dir = "/var/lib/safedeploy"
backups = 3

[[target]]
name = "web"
lineage = "example.com"
service = "nginx"
files = [
  { path = "/etc/nginx/tls/site.crt", content = ["fullchain"], owner = "root", group = "0", mode = "0644" },
  { path = "/etc/nginx/tls/site.key", content = ["privkey"], mode = "0600", acl_read = ["www-data"] },
]
check = ["/usr/sbin/nginx", "-t"]
reload = ["/bin/systemctl", "reload", "nginx"]
pins = ["sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]
probe = { connect = "127.0.0.1:443", servername = "example.com", timeout = 10 }

[[target]]
name = "mail"
lineage = "example.com"
files = [ { path = "/etc/postfix/tls.pem", content = ["fullchain", "privkey"] } ]
probe = { connect = "[::1]:25", servername = "mail.example.com", starttls = "smtp" }

[challenge]
webroot_map = { "example.com,www.example.com" = "/var/www/html" }
http_port = 80
self_check = "warn"
nsupdate_server = "127.0.0.1:53"
tsig_key = "/etc/letsencrypt/tsig.key"
propagation_timeout = 120
unreachable_ns = "fail"

[[challenge.zone]]
name = "example.com"
server = "ns1.example.com:5353"
dns_port = 53

[notify]
command = ["/usr/local/bin/notify", "--from", "safedeploy"]
syslog_facility = "daemon"
timeout = 30

[status]
file = "/var/lib/safedeploy/status.json"
prometheus = "/var/lib/node_exporter/safedeploy.prom"

[fleet]
role = "server"
server = "web1"
store = "postgresql://safedeploy@db.example.com/fleet"
password_file = "/etc/letsencrypt/fleet.password"
'''

RENEWAL = b'''# renew_before_expiry = 30 days
version = 2.1.0
archive_dir = /etc/letsencrypt/archive/example.com
cert = %(live)s/cert.pem
privkey = %(live)s/privkey.pem
chain = %(live)s/chain.pem
fullchain = %(live)s/fullchain.pem
renew_before_expiry = 30 days

# Options used in the renewal process
[renewalparams]
account = 0123456789abcdef0123456789abcdef
authenticator = safedeploy
safedeploy_webroot_map = {"example.com": "/var/www/html"}
safedeploy_http_port = 80
safedeploy_dns_port = 53
server = https://acme-v02.api.letsencrypt.org/directory
key_type = ecdsa
manual_auth_hook = /usr/lib/safedeploy/manual-auth
deploy_hook = certbot-safedeploy deploy
reuse_key = True
[[webroot_map]]
example.com = /var/www/html
'''

TSIG_KEY = b'''key "acme-update" {
\talgorithm hmac-sha256;
\tsecret "''' + base64.b64encode(b"0123456789abcdef0123456789abcdef") + b'''";
};
'''


def dns_replies() -> List[bytes]:
    """Wire replies of the shapes the dns-01 code reads: SOA, NS with glue, CNAME, TXT, A, CH TXT."""
    out = []
    q = dns.message.make_query("_acme-challenge.example.com", "TXT")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("_acme-challenge.example.com.", 60, "IN", "TXT", '"abc"', '"def"'))
    out.append(r.to_wire())
    q = dns.message.make_query("example.com", "SOA")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("example.com.", 300, "IN", "SOA",
                                        "ns1.example.com. host.example.com. 1 7200 900 1209600 60"))
    out.append(r.to_wire())
    q = dns.message.make_query("example.com", "NS")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("example.com.", 300, "IN", "NS", "ns1.example.com.", "ns2.example.com."))
    r.additional.append(dns.rrset.from_text("ns1.example.com.", 300, "IN", "A", "127.0.0.1"))
    r.additional.append(dns.rrset.from_text("ns2.example.com.", 300, "IN", "AAAA", "::1"))
    out.append(r.to_wire())
    q = dns.message.make_query("_acme-challenge.example.com", "CNAME")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("_acme-challenge.example.com.", 60, "IN", "CNAME", "x.acme.example.net."))
    out.append(r.to_wire())
    q = dns.message.make_query("ns1.example.com", "A")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("ns1.example.com.", 60, "IN", "A", "127.0.0.1"))
    out.append(r.to_wire())
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("ns1.example.com.", 60, "CH", "A", "ns1.example.com. 1"))  # CH A: no .address
    out.append(r.to_wire())
    q = dns.message.make_query("version.bind", "TXT", "CH")
    r = dns.message.make_response(q)
    r.answer.append(dns.rrset.from_text("version.bind.", 0, "CH", "TXT", '"9.18.19-1~deb12u1-Debian"'))
    out.append(r.to_wire())
    return out


STARTTLS: Dict[str, List[List[bytes]]] = {
    "smtp": [[b"220 mail.example.com ESMTP Postfix\r\n", b"250-mail.example.com\r\n250-PIPELINING\r\n"
              b"250-STARTTLS\r\n250 8BITMIME\r\n", b"220 2.0.0 Ready to start TLS\r\n"]],
    "imap": [[b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready.\r\n", b"a1 OK Begin TLS negotiation now.\r\n"]],
    "pop3": [[b"+OK Dovecot ready.\r\n", b"+OK Begin TLS negotiation now.\r\n"]],
    "ftp": [[b"220 (vsFTPd 3.0.3)\r\n", b"234 Proceed with negotiation.\r\n"]],
    "xmpp": [[b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
              b"xmlns:stream='http://etherx.jabber.org/streams' id='1' version='1.0'><stream:features>"
              b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>",
              b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"]],
    "postgres": [[b"S"]],
    "ldap": [[bytes.fromhex("300c02010178070a010004000400")]],
}
