"""SPKI pins as in RFC 7469 (HTTP Public Key Pinning) ``pin-sha256``.

A pin is ``sha256/`` followed by the base64 of the SHA-256 digest of the DER
SubjectPublicKeyInfo (RFC 7469 §2.4), the format Android's network security config
and OkHttp use too.  RFC 7469 §4.3 requires a backup pin: at least one pin that
matches no key in the current chain, so that a key compromise does not lock
clients out.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Iterable, Sequence

from cryptography import x509

from certbot_safedeploy.verify import report
from certbot_safedeploy.verify.keys import PublicKey, spki_der
from certbot_safedeploy.verify.report import Finding

from certbot_safedeploy.verify.pinformat import PREFIX, PinFormatError, normalize_pin

__all__ = ["PREFIX", "PinFormatError", "normalize_pin", "pin_of_spki", "pin_of_public_key",
           "pin_of_certificate", "check_pins"]


def pin_of_spki(spki: bytes) -> str:
    return PREFIX + base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def pin_of_public_key(public_key: PublicKey) -> str:
    return pin_of_spki(spki_der(public_key))


def pin_of_certificate(certificate: x509.Certificate) -> str:
    return pin_of_public_key(certificate.public_key())  # type: ignore[arg-type]


def check_pins(
    chain: Sequence[x509.Certificate], pins: Iterable[str], file: str
) -> list[Finding]:
    """RFC 7469 §2.6: at least one SPKI in the served chain must be pinned."""
    pin_set = set(pins)
    if not pin_set:
        return []
    served = {pin_of_certificate(c): i for i, c in enumerate(chain)}
    matched = sorted(pin_set & served.keys())
    findings: list[Finding] = []
    if matched:
        where = ", ".join(
            "leaf" if served[p] == 0 else f"chain[{served[p]}]" for p in matched
        )
        findings.append(report.passed(file, "pins", f"pinned key present ({where})"))
    else:
        findings.append(
            report.error(
                file,
                "pins",
                f"no key in the chain matches the {len(pin_set)} configured pin(s); "
                f"clients that pinned them would refuse this certificate "
                f"(leaf pin is {pin_of_certificate(chain[0])})",
                "re-issue with a pinned key (certbot --reuse-key, or the backup key's CSR) "
                "or update the pin set and wait out the pins' max-age first",
            )
        )
    if not pin_set - served.keys():
        findings.append(
            report.warning(
                file,
                "pins",
                "the pin set has no backup pin (RFC 7469 §4.3): every pin is in the current chain",
                "generate a backup key, add its pin (certbot-safedeploy pins KEY) and keep the key offline",
            )
        )
    return findings
