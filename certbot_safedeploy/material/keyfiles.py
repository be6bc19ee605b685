"""Read certificates, public keys, private keys and CSRs for ``pins`` (I/O + parse)."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.system import readfile
from certbot_safedeploy.verify import pincheck
from certbot_safedeploy.verify.keys import PublicKey, load_private_key
from certbot_safedeploy.verify.parsing import PARSE_ERRORS, why
from certbot_safedeploy.verify.pem import PemBlock, PemFormatError, parse_blocks


def pins_of_file(path: str) -> list[tuple[str, str]]:
    """(pin, description) for each key-bearing PEM block in ``path``."""
    try:
        data = readfile.read_bytes(path, 1 << 20)
    except OSError as exc:
        raise SafeDeployError(f"cannot read: {exc.strerror}", path=path,
                              fix="pass a regular PEM file (certificate, CSR or key) of at most 1 MiB") from None
    try:
        blocks = parse_blocks(data)
    except PemFormatError as exc:
        raise SafeDeployError(str(exc), path=path, fix=exc.fix) from None
    out: list[tuple[str, str]] = []
    for number, block in enumerate(blocks, 1):
        try:
            pin_what = _pin_of_block(block)
        except PemFormatError as exc:  # a ValueError: before PARSE_ERRORS
            raise SafeDeployError(str(exc), path=path, fix=exc.fix) from None
        except PARSE_ERRORS as exc:
            raise SafeDeployError(f"PEM block {number} ({block.label}) cannot be parsed: {why(exc)}", path=path,
                                  fix="pass an intact PEM certificate, CSR, public or private key") from None
        if pin_what is not None:
            out.append(pin_what)
    if not out:
        raise SafeDeployError("no certificate, key or CSR found", path=path)
    return out


def _pin_of_block(block: PemBlock) -> tuple[str, str] | None:
    """(pin, description) of one PEM block, None for a block without a key; parse errors escape."""
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
        public = load_private_key(block).public_key()
        what = "private key"
    else:
        return None
    return pincheck.pin_of_public_key(public), what
