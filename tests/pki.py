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


# --- DER surgery for certificates newer cryptography refuses to build -----------------

ALG_SHA1_RSA = bytes.fromhex("300d06092a864886f70d0101050500")
ALG_MD5_RSA = bytes.fromhex("300d06092a864886f70d0101040500")
ALG_SHA1_ECDSA = bytes.fromhex("300906072a8648ce3d0401")
ALG_SHA256_ECDSA = bytes.fromhex("300a06082a8648ce3d040302")
ALG_SHA256_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
PLACEHOLDER_OID = "2.5.29.99"  # encodes in 3 bytes like every id-ce extension OID


def _encode(tag: int, body: bytes) -> bytes:
    if len(body) < 0x80:
        return bytes([tag, len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _elements(body: bytes) -> list[bytes]:
    """The complete TLVs inside a constructed value."""
    out, pos = [], 0
    while pos < len(body):
        length, head = body[pos + 1], 2
        if length & 0x80:
            count = length & 0x7F
            length, head = int.from_bytes(body[pos + 2 : pos + 2 + count], "big"), 2 + count
        out.append(body[pos : pos + head + length])
        pos += head + length
    return out


def _length(tlv: bytes) -> int:
    length = tlv[1]
    if length & 0x80:
        count = length & 0x7F
        return int.from_bytes(tlv[2 : 2 + count], "big")
    return length


def resign(cert: x509.Certificate, issuer_key, algorithm: bytes, *, replace: tuple[bytes, bytes] | None = None
           ) -> x509.Certificate:
    """Re-sign ``cert`` with ``algorithm`` (an AlgorithmIdentifier DER: SHA-1, MD5, ...).

    ``replace`` swaps bytes inside the TBS first (e.g. a placeholder extension OID for
    a real one, to make duplicate or malformed extensions the builder refuses).
    """
    from cryptography.hazmat.primitives.asymmetric import padding

    der = cert.public_bytes(serialization.Encoding.DER)
    tbs, _, _ = _elements(der[len(der) - _length(der):])
    parts = _elements(tbs[len(tbs) - _length(tbs):])
    index = 2 if parts[0][0] == 0xA0 else 1
    parts[index] = algorithm
    body = b"".join(parts)
    if replace:
        body = body.replace(*replace)
    new_tbs = _encode(0x30, body)
    digest = {ALG_SHA1_RSA: hashes.SHA1(), ALG_SHA1_ECDSA: hashes.SHA1(), ALG_MD5_RSA: hashes.MD5(),
              ALG_SHA256_ECDSA: hashes.SHA256(), ALG_SHA256_RSA: hashes.SHA256()}[algorithm]
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        signature = issuer_key.sign(new_tbs, padding.PKCS1v15(), digest)
    else:
        signature = issuer_key.sign(new_tbs, ec.ECDSA(digest))
    return x509.load_der_x509_certificate(
        _encode(0x30, new_tbs + algorithm + _encode(0x03, b"\x00" + signature)))


def with_raw_extension(subject: str, issuer: Issued, oid_hex: str, value: bytes, *,
                       critical: bool = False, sans: Sequence[str] | None = None) -> x509.Certificate:
    """A leaf whose extension ``oid_hex`` (DER content of a 3-byte id-ce OID) carries ``value`` verbatim."""
    assert len(oid_hex) == 6, "the placeholder swap keeps lengths: id-ce OIDs only"
    placeholder = x509.UnrecognizedExtension(x509.ObjectIdentifier(PLACEHOLDER_OID), value)
    leaf = make_cert(subject, issuer=issuer, sans=[subject] if sans is None else sans,
                     extensions=[(placeholder, critical)])
    alg = ALG_SHA256_RSA if isinstance(issuer.key, rsa.RSAPrivateKey) else ALG_SHA256_ECDSA
    return resign(leaf.cert, issuer.key, alg,
                  replace=(bytes.fromhex("0603551d63"), bytes.fromhex("06") + bytes([len(bytes.fromhex(oid_hex))])
                           + bytes.fromhex(oid_hex)))


def make_crl(issuer: Issued, revoked: Sequence[int] = (), *, this_update=None, next_update=None,
             signer_key=None, issuer_name: x509.Name | None = None, extensions=()) -> bytes:
    """A DER CRL from ``issuer`` listing ``revoked`` serials; ``signer_key`` signs it instead (wrong signer)."""
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(issuer_name or issuer.cert.subject)
               .last_update(this_update or NOW - DAY)
               .next_update(next_update or NOW + 7 * DAY))
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - DAY).build())
    for value, critical in extensions:
        builder = builder.add_extension(value, critical=critical)
    key = signer_key or issuer.key
    return builder.sign(key, _sign_hash(key)).public_bytes(serialization.Encoding.DER)


def cdp(url: str) -> tuple[x509.ExtensionType, bool]:
    """A CRL distribution point extension naming ``url``, for make_cert(extensions=...)."""
    return (x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(url)], None, None, None)]), False)
