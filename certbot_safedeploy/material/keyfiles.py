"""Read certificates, public keys, private keys and CSRs for ``pins`` (I/O + parse)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.verify import pincheck
from certbot_safedeploy.verify.keys import PublicKey, load_private_key
from certbot_safedeploy.verify.pem import PemFormatError, parse_blocks


def pins_of_file(path: str) -> list[tuple[str, str]]:
    """(pin, description) for each key-bearing PEM block in ``path``."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(1 << 20)
    except OSError as exc:
        raise SafeDeployError(f"cannot read: {exc.strerror}", path=path) from None
    try:
        blocks = parse_blocks(data)
    except PemFormatError as exc:
        raise SafeDeployError(str(exc), path=path, fix=exc.fix) from None
    out: list[tuple[str, str]] = []
    for block in blocks:
        public: PublicKey
        if block.label == "CERTIFICATE":
            cert = x509.load_der_x509_certificate(block.der)
            public = cert.public_key()  # type: ignore[assignment]
            what = f"certificate {cert.subject.rfc4514_string()}"
        elif block.label in ("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"):
            csr = x509.load_der_x509_csr(block.der)
            public = csr.public_key()  # type: ignore[assignment]
            what = f"CSR {csr.subject.rfc4514_string()}"
        elif block.label == "PUBLIC KEY":
            public = serialization.load_der_public_key(block.der)  # type: ignore[assignment]
            what = "public key"
        elif block.is_private_key:
            try:
                public = load_private_key(block).public_key()
            except PemFormatError as exc:
                raise SafeDeployError(str(exc), path=path, fix=exc.fix) from None
            what = "private key"
        else:
            continue
        out.append((pincheck.pin_of_public_key(public), what))
    if not out:
        raise SafeDeployError("no certificate, key or CSR found", path=path)
    return out
