"""Debian's ``unbound`` as the recursive resolver of the bed (pebble's and the plugin's).

One ``stub-zone`` per test zone points at the authoritative server that holds
it, so CNAMEs from one server's zone into another's are followed the way a CA's
resolver follows them.  Caching is off (the plugin asks the same resolver before
pebble does, and a cached NXDOMAIN would fail the validation), and the root hints point at a
closed local port: nothing leaves the machine.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Mapping, Sequence

import dns.message
import dns.query

from .servers import Process, free_port


class UnboundBed:
    def __init__(self, base: Path, stubs: Mapping[str, Sequence[str]]) -> None:
        """``stubs``: zone -> ["127.0.0.1@PORT", ...]."""
        self.base = base
        base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.stubs = dict(stubs)
        self.process: Process | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "UnboundBed":
        d = self.base
        (d / "root.hints").write_text(". 3600000 NS a.root.invalid.\na.root.invalid. 3600000 A 127.0.0.9\n")
        stubs = "".join(f'stub-zone:\n    name: "{zone}"\n'
                        + "".join(f"    stub-addr: {a}\n" for a in addrs)
                        for zone, addrs in self.stubs.items())
        conf = d / "unbound.conf"
        conf.write_text(f"""server:
    interface: 127.0.0.1@{self.port}
    port: {self.port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{d}"
    pidfile: ""
    logfile: ""
    use-syslog: no
    verbosity: 1
    do-ip6: no
    do-not-query-localhost: no
    access-control: 127.0.0.0/8 allow
    module-config: "iterator"
    root-hints: "{d}/root.hints"
    cache-max-ttl: 0
    cache-max-negative-ttl: 0
    infra-host-ttl: 1
    domain-insecure: "test."
    local-zone: "test." nodefault  # RFC 6761 names: unbound answers them itself by default
remote-control:
    control-enable: no
{stubs}""")
        self.process = Process(["unbound", "-d", "-c", str(conf)], d / "unbound.log")
        try:
            return self._wait_serving()
        except BaseException:
            self.stop()  # never leave a server behind when the bed fails to start
            raise

    def _wait_serving(self) -> "UnboundBed":
        d = self.base
        assert self.process is not None
        deadline = time.monotonic() + 20
        zone = next(iter(self.stubs))
        while True:
            if self.process.proc.poll() is not None:
                raise RuntimeError(f"unbound exited: {(d / 'unbound.log').read_text()[-3000:]}")
            try:
                r = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=self.port, timeout=0.5)
                if r.answer:
                    return self
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"unbound does not resolve {zone}: {(d / 'unbound.log').read_text()[-3000:]}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process:
            self.process.stop()
