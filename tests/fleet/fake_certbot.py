#!/usr/bin/env python3
"""A stand-in for `certbot certonly --csr` in the fleet unit tests (the real certbot
runs in tests/integration/test_fleet_e2e.py).  It signs the CSR with a test CA.

    fake_certbot.py CA_DIR certonly --non-interactive --csr F --cert-path F --chain-path F --fullchain-path F

CA_DIR holds inter.pem, inter.key; a file named `fail` there makes it exit 1,
`foreign` makes it certify a different key, `names` (one DNS name a line) replaces the
CSR's names (a CA that adds, drops or re-cases names), `log` collects one line per call.
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ca_dir, args = sys.argv[1], sys.argv[2:]
opt = {args[i]: args[i + 1] for i in range(len(args) - 1) if args[i].startswith("--")}
with open(os.path.join(ca_dir, "log"), "a") as log:
    log.write(opt["--csr"] + "\n")
if os.path.exists(os.path.join(ca_dir, "fail")):
    print("An unexpected error occurred: DNS problem: NXDOMAIN looking up TXT", file=sys.stderr)
    sys.exit(1)
csr = x509.load_pem_x509_csr(open(opt["--csr"], "rb").read())
inter = x509.load_pem_x509_certificate(open(os.path.join(ca_dir, "inter.pem"), "rb").read())
inter_key = serialization.load_pem_private_key(open(os.path.join(ca_dir, "inter.key"), "rb").read(), None)
public = ec.generate_private_key(ec.SECP256R1()).public_key() if os.path.exists(
    os.path.join(ca_dir, "foreign")) else csr.public_key()
now = datetime.datetime.now(datetime.timezone.utc)
days = int(open(os.path.join(ca_dir, "days")).read()) if os.path.exists(os.path.join(ca_dir, "days")) else 90
sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
if os.path.exists(os.path.join(ca_dir, "names")):
    sans = x509.SubjectAlternativeName([x509.DNSName(n) for n in open(os.path.join(ca_dir, "names")).read().split()])
cert = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(inter.subject)
        .public_key(public).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(sans, critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(inter.public_key()), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(inter_key, hashes.SHA256()))
pem = cert.public_bytes(serialization.Encoding.PEM)
chain = inter.public_bytes(serialization.Encoding.PEM)
for key, data in (("--cert-path", pem), ("--chain-path", chain), ("--fullchain-path", pem + chain)):
    with open(opt[key], "xb") as handle:
        handle.write(data)
print("Successfully received certificate.")
