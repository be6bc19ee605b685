"""Test PKI built with cryptography: roots, intermediates, leaves, certbot lineages."""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime.datetime.now(datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def new_key(kind: str = "ec"):
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def _sign_hash(key):
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


@dataclasses.dataclass
class Issued:
    cert: x509.Certificate
    key: object

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject: str, *, issuer: Issued | None = None, ca: bool = False,
              sans: Sequence[str] = (), key=None, start=None, end=None,
              key_kind: str = "ec", issuer_name: str | None = None,
              extensions: Sequence[tuple[x509.ExtensionType, bool]] = (),
              omit: Sequence[type] = (), hash_alg=None) -> Issued:
    """A certificate shaped like a public CA's: AKI, SKI, KU for CAs, EKU serverAuth for leaves.

    ``extensions`` adds (value, critical) pairs and replaces the default of the same
    class; ``omit`` drops default extensions by class; ``hash_alg`` overrides SHA-256.
    """
    key = key or new_key(key_kind)
    signer_key = issuer.key if issuer else key
    signer_cert = issuer.cert if issuer else None
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer_name) if issuer_name else (issuer.cert.subject if issuer else _name(subject)))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start or NOW - DAY)
        .not_valid_after(end or NOW + 90 * DAY)
    )
    signer_public = signer_cert.public_key() if signer_cert else key.public_key()
    defaults: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=ca, path_length=None), True),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_public), False),
    ]
    if ca:
        defaults.append((x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, key_cert_sign=True, crl_sign=True,
                                       encipher_only=False, decipher_only=False), True))
    else:
        defaults.append((x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False))
    if sans:
        defaults.append((x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), False))
    chosen = {type(value): (value, critical) for value, critical in defaults if type(value) not in omit}
    for value, critical in extensions:
        chosen[type(value)] = (value, critical)
    for value, critical in chosen.values():
        builder = builder.add_extension(value, critical=critical)
    algorithm = hash_alg if hash_alg is not None else _sign_hash(signer_key)
    cert = builder.sign(signer_key, algorithm)  # type: ignore[arg-type]
    return Issued(cert, key)


@dataclasses.dataclass
class Pki:
    root: Issued
    intermediate: Issued

    @classmethod
    def create(cls, name: str = "Test") -> "Pki":
        root = make_cert(f"{name} Root", ca=True, end=NOW + 3650 * DAY)
        inter = make_cert(f"{name} Intermediate", issuer=root, ca=True, end=NOW + 1000 * DAY)
        return cls(root, inter)

    def leaf(self, *sans: str, key_kind: str = "ec", key=None, **kw) -> Issued:
        return make_cert(sans[0] if sans else "leaf", issuer=self.intermediate, sans=sans,
                         key_kind=key_kind, key=key, **kw)

    def root_file(self, directory: str) -> str:
        path = os.path.join(directory, "root.pem")
        with open(path, "wb") as handle:
            handle.write(self.root.pem)
        return path


def write_lineage(config_dir: str, name: str, leaf: Issued, chain: Sequence[Issued], *,
                  version: int = 1, overrides: dict[str, bytes] | None = None) -> str:
    """Write archive/<name>/*N.pem and live/<name>/*.pem symlinks, as certbot does."""
    archive = os.path.join(config_dir, "archive", name)
    live = os.path.join(config_dir, "live", name)
    os.makedirs(archive, exist_ok=True)
    os.makedirs(live, exist_ok=True)
    chain_pem = b"".join(c.pem for c in chain)
    contents = {
        "cert": leaf.pem,
        "chain": chain_pem,
        "fullchain": leaf.pem + chain_pem,
        "privkey": leaf.key_pem,
    }
    for part, data in contents.items():
        data = (overrides or {}).get(f"{part}.pem", data)
        target = os.path.join(archive, f"{part}{version}.pem")
        with open(target, "wb") as handle:
            handle.write(data)
        if part == "privkey":
            os.chmod(target, 0o600)
        link = os.path.join(live, f"{part}.pem")
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.path.relpath(target, live), link)
    return live
