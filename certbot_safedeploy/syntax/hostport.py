"""``host``, ``host:port`` and ``[v6]:port`` as written in configs and on command lines (pure)."""

from __future__ import annotations

def split_host_port(text: str, default_port: int) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[v6]:port`` or ``v6`` -> (host, port or None if bad)."""
    text = text.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, ""
    if not host:
        return host, None
    if not port_text:
        return host, default_port
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        return host, None
    return host, int(port_text)
