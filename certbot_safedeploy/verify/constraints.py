"""Name constraints (RFC 5280 §4.2.1.10) on DNS names and IP addresses.

A CA's permitted and excluded subtrees bind every certificate below it: each
subjectAltName dNSName / iPAddress of the same type must lie inside some
permitted subtree and inside no excluded one.  DNS subtrees match the name itself
and every name below it (``example.com`` covers ``a.example.com``); a leading dot
matches only names below (not RFC 5280 syntax, but OpenSSL, GnuTLS and NSS read it
so).  A wildcard SAN ``*.x`` is matched as ``x``'s subtree.  A SAN that is not a
valid host name is still matched as a string, as those clients do.
"""

from __future__ import annotations

import ipaddress
from typing import Union

from cryptography import x509

IPName = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNet = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def _dns_in(name: str, base: str) -> bool:
    name, base = name.lower().rstrip("."), base.lower().rstrip(".")
    if not base:
        return True
    if base.startswith("."):
        return name.endswith(base)
    return name == base or name.endswith("." + base)


def _dns_excluded(name: str, base: str) -> bool:
    """An excluded subtree also catches a wildcard that could expand into it."""
    if _dns_in(name, base):
        return True
    if name.startswith("*."):
        return _dns_in(base.lstrip("."), name[2:]) and base.lstrip(".").count(".") == name.count(".")
    return False


def valid_dns_pattern(name: str, *, underscore: bool = False) -> bool:
    """LDH labels (RFC 1034 §3.5, RFC 5890 A-labels), an optional whole-label ``*`` first.

    ``underscore``: also allow ``_`` in labels, as OpenSSL, GnuTLS and NSS do when they
    match a server name (``foo_bar.example.com`` is a host name in practice).
    """
    extra = "-_" if underscore else "-"
    labels = name.split(".")
    if labels and labels[0] == "*":
        labels = labels[1:]
    if not labels or len(name) > 253:
        return False
    for part in labels:
        if not 0 < len(part) <= 63 or part.startswith("-") or part.endswith("-"):
            return False
        if not all(c.isascii() and (c.isalnum() or c in extra) for c in part):
            return False
    return True


def _ip_in(address: IPName, network: IPNet) -> bool:
    return address.version == network.version and address in network


MAX_COMPARISONS = 1 << 16  # names x subtrees; more is a denial-of-service shape, refused


PROCESSED = (x509.DNSName, x509.IPAddress, x509.DirectoryName, x509.RFC822Name)


def violations(nc: x509.NameConstraints, general_names: list[x509.GeneralName]) -> list[str]:
    """The names (subjectAltName entries) that break ``nc``, each with the reason."""
    dns_names = [g.value for g in general_names if isinstance(g, x509.DNSName)]
    ips = [g.value for g in general_names if isinstance(g, x509.IPAddress)
           and isinstance(g.value, (ipaddress.IPv4Address, ipaddress.IPv6Address))]
    problems: list[str] = []
    permitted = list(nc.permitted_subtrees or [])
    excluded = list(nc.excluded_subtrees or [])
    subtrees = permitted + excluded
    if (len(dns_names) + len(ips)) * (len(permitted) + len(excluded)) > MAX_COMPARISONS:
        return [f"{len(dns_names) + len(ips)} names against {len(permitted) + len(excluded)} "
                f"subtrees is more than {MAX_COMPARISONS} comparisons (a denial-of-service shape)"]
    unprocessed = {type(g) for g in subtrees if not isinstance(g, PROCESSED)}
    for general in general_names:
        if type(general) in unprocessed:
            problems.append(f"a {type(general).__name__} subtree constrains a name of that type, "
                            "which clients cannot check (RFC 5280 §4.2.1.10: refuse)")
            break
    p_dns = [g.value for g in permitted if isinstance(g, x509.DNSName)]
    e_dns = [g.value for g in excluded if isinstance(g, x509.DNSName)]
    p_ip = [g.value for g in permitted if isinstance(g, x509.IPAddress)]
    e_ip = [g.value for g in excluded if isinstance(g, x509.IPAddress)]
    for name in dns_names:
        hit = next((b for b in e_dns if _dns_excluded(name, b)), None)
        if hit is not None:
            problems.append(f"{name} is in the excluded subtree {hit or '(all names)'}")
        elif p_dns and not any(_dns_in(name, b) for b in p_dns):
            problems.append(f"{name} is outside the permitted subtrees {', '.join(p_dns)}")
    for address in ips:
        net_hit = next((n for n in e_ip if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network))
                        and _ip_in(address, n)), None)
        if net_hit is not None:
            problems.append(f"{address} is in the excluded range {net_hit}")
        elif p_ip:
            nets = [n for n in p_ip if isinstance(n, (ipaddress.IPv4Network, ipaddress.IPv6Network))]
            if not any(_ip_in(address, n) for n in nets):
                problems.append(f"{address} is outside the permitted ranges "
                                f"{', '.join(str(n) for n in nets)}")
    return problems
