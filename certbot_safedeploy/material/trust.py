"""Load trust anchors from PEM bundles (default: the system bundle)."""

from __future__ import annotations

import functools
import warnings
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.verify.chain import TrustStore
from certbot_safedeploy.verify.pem import PemFormatError, expect_certificates

SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/cert.pem",  # Alpine, BSD
)


@functools.lru_cache(maxsize=32)
def _load_file(path: str) -> tuple[x509.Certificate, ...]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SafeDeployError(
            f"cannot read trust anchors: {exc.strerror}",
            path=path,
            fix="install ca-certificates or point trust_anchors / --trust-anchor at a PEM bundle",
        ) from None
    try:
        anchors = anchors_from_pem(data)
    except PemFormatError as exc:
        raise SafeDeployError(f"trust anchor bundle: {exc}", path=path, fix=exc.fix) from None
    return anchors


def anchors_from_pem(data: bytes) -> tuple[x509.Certificate, ...]:
    """Certificates of a PEM bundle; an unparsable anchor is skipped, not fatal."""
    blocks = expect_certificates(data, at_least=1)
    anchors: list[x509.Certificate] = []
    with warnings.catch_warnings():
        # system bundles carry a few legacy roots (negative serials) that newer
        # cryptography warns about
        warnings.simplefilter("ignore")
        for block in blocks:
            try:
                anchors.append(x509.load_der_x509_certificate(block.der))
            except Exception:  # noqa: BLE001 - ValueError, or a refusal of newer cryptography
                continue
    return tuple(anchors)


def default_bundle() -> str:
    import os

    for path in SYSTEM_BUNDLES:
        if os.path.exists(path):
            return path
    return SYSTEM_BUNDLES[0]


def load_trust_store(paths: Sequence[str] = (), partial_chain: Sequence[str] = ()) -> TrustStore:
    """Trust anchors from ``paths``, or the system bundle when none is given.

    Certificates in ``partial_chain`` files anchor a path even when they are not
    self-signed (an intermediate trusted on purpose, OpenSSL's ``-partial_chain``);
    the others anchor only when self-signed, as clients require.
    """
    return _store(tuple(paths) or (() if partial_chain else (default_bundle(),)), tuple(partial_chain))


@functools.lru_cache(maxsize=8)
def _store(chosen: tuple[str, ...], partial: tuple[str, ...] = ()) -> TrustStore:
    """One store per set of bundles per process (its library Store is built once)."""
    anchors: list[x509.Certificate] = []
    for path in chosen:
        anchors.extend(_load_file(path))
    on_purpose: list[x509.Certificate] = []
    for path in partial:
        on_purpose.extend(_load_file(path))
    source = ", ".join([*chosen, *(f"{p} (partial-chain)" for p in partial)])
    return TrustStore(anchors, source, partial_chain=on_purpose)
