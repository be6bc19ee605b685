"""Name coverage: does the leaf's subjectAltName cover each requested domain?

Matching follows RFC 6125 §6.4: comparison is case-insensitive on A-labels, and a
wildcard is only honoured as the whole left-most label, so ``*.a.b`` covers
``x.a.b`` but neither ``a.b`` nor ``y.x.a.b``.  A requested wildcard is covered
only by the same wildcard.  A wildcard over a public suffix (``*.com``, ``*.co.uk``,
``*.test``) covers nothing (:mod:`.publicsuffix`).  Underscores are matched as
OpenSSL, GnuTLS and NSS match them: an exact name may hold them
(``foo_bar.example.com``), a wildcard match may not (OpenSSL refuses it).  The CN is ignored, as RFC 6125 §6.4.4 and the CA/B
Baseline Requirements say.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from cryptography import x509

from certbot_safedeploy.verify import certinfo, publicsuffix, report
from certbot_safedeploy.verify.constraints import valid_dns_pattern
from certbot_safedeploy.verify.report import Finding


def canonical(name: str) -> str:
    """Lower-case, strip one trailing dot, convert U-labels to A-labels."""
    name = name.strip().rstrip(".")
    try:
        return name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return name.lower()


def san_names(certificate: x509.Certificate) -> list[str]:
    """DNS names and IP addresses in the subjectAltName extension."""
    try:
        ext = certinfo.extension(certificate, x509.SubjectAlternativeName)
    except certinfo.Malformed:  # refused by check_names / the path checks
        return []
    if ext is None:
        return []
    names = [n.rstrip(".").lower() for n in ext.value.get_values_for_type(x509.DNSName)]
    names += [str(ip) for ip in ext.value.get_values_for_type(x509.IPAddress)]
    return names


def covers(san: str, domain: str) -> bool:
    """True when the SAN entry ``san`` covers the requested ``domain``."""
    try:
        return ipaddress.ip_address(san.strip()) == ipaddress.ip_address(domain.strip())
    except ValueError:
        pass
    # the SAN entry must already be an A-label name (RFC 5280 §4.2.1.6: IA5String);
    # the requested name may be given as a U-label and is converted
    san, domain = san.strip().rstrip(".").lower(), canonical(domain)
    if not valid_dns_pattern(san, underscore=True) or not valid_dns_pattern(domain, underscore=True):
        return False
    if san == domain:
        return True
    if not san.startswith("*.") or domain.startswith("*."):
        return False
    if publicsuffix.wildcard_problem(san) or "_" in san or "_" in domain:
        return False  # OpenSSL matches a wildcard only over LDH labels
    suffix = san[1:]  # ".a.b"
    if not domain.endswith(suffix):
        return False
    head = domain[: -len(suffix)]
    return bool(head) and "." not in head


def why_not_covered(sans: Iterable[str], domain: str) -> str:
    """Words after "does not cover DOMAIN": the names, and a wildcard clients will not match."""
    sans = list(sans)
    shown = f"(its names: {', '.join(sans) or 'none'})"
    domain = canonical(domain)
    for san in sans:
        problem = publicsuffix.wildcard_problem(san.strip().rstrip(".").lower())
        if problem and domain.endswith(san.strip().rstrip(".").lower()[1:]):
            return f"{shown}: {problem}"
    return shown


def check_names(
    certificate: x509.Certificate, domains: Iterable[str], file: str
) -> list[Finding]:
    """Every requested domain must be covered by some SAN entry."""
    wanted = [d for d in (canonical(d) for d in domains) if d]
    if not wanted:
        return []
    try:
        certinfo.extensions(certificate)
    except certinfo.Malformed as exc:
        return [report.error(file, "malformed", f"the certificate's extensions cannot be parsed ({exc})",
                             "discard this certificate and re-issue it")]
    sans = san_names(certificate)
    missing = [d for d in wanted if not any(covers(s, d) for s in sans)]
    if missing:
        return [
            report.error(
                file,
                "names",
                f"the certificate does not cover {', '.join(missing)} "
                f"{why_not_covered(sans, missing[0])}",
                "re-issue with every name (certbot certonly --cert-name ... -d ...)",
            )
        ]
    return [report.passed(file, "names", f"covers {', '.join(wanted)}")]
