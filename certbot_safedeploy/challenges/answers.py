"""The records of a DNS reply we may read (pure).

A reply can carry records of another class (CH, HS, or a number) with the type
we asked for; dnspython parses those as generic rdata without ``.address``,
``.target`` or ``.strings``.  Every reader of a reply section goes through
:func:`records`, which keeps class IN (or the class asked for) and the type.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import dns.rdataclass
import dns.rdatatype
import dns.rrset


def records(section: Iterable[dns.rrset.RRset], rdtype: str,
            rdclass: dns.rdataclass.RdataClass = dns.rdataclass.IN) -> Iterator[dns.rrset.RRset]:
    """The non-empty RRsets of ``section`` with type ``rdtype`` in class ``rdclass``."""
    wanted = dns.rdatatype.from_text(rdtype)
    for rrset in section:
        if rrset.rdtype == wanted and rrset.rdclass == rdclass and len(rrset):
            yield rrset
