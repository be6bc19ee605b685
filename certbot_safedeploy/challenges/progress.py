"""Say what a propagation wait is waiting for.

A wait can last a minute; silence makes a lagging secondary look like a hang.
At the start we name every zone and server; on a terminal one live line per
lagging server counts the seconds; in logs a line every ``interval`` seconds
names who is still behind; at the end each server's time is reported.
"""

from __future__ import annotations

from typing import Callable, Optional, Protocol, Sequence, TextIO

LOG_INTERVAL = 10.0


class Polled(Protocol):
    zone: str
    name: str
    address: str
    port: int
    done: bool
    took: Optional[float]
    last: str


def _label(s: Polled) -> str:
    return f"{s.name} ({s.address} port {s.port})"


class Progress:
    def __init__(self, emit: Callable[[str], None], *, log: Callable[[str], None] | None = None,
                 live: TextIO | None = None, interval: float = LOG_INTERVAL) -> None:
        """``emit``: start and end lines; ``log``: the periodic lines (default ``emit``);
        ``live``: a terminal to keep the per-server lines on."""
        self.emit = emit
        self.log = log or emit
        self.live = live
        self.interval = interval
        self._next_log = interval
        self._drawn = 0

    def start(self, servers: Sequence[Polled]) -> None:
        zones: dict[str, list[str]] = {}
        for s in servers:
            zones.setdefault(s.zone, []).append(_label(s))
        self.emit("waiting until every authoritative server serves the TXT records: "
                  + "; ".join(f"zone {z}: {', '.join(labels)}" for z, labels in zones.items()))

    def tick(self, servers: Sequence[Polled], elapsed: float) -> None:
        lagging = [s for s in servers if not s.done]
        if self.live is not None:
            self._draw([f"  waiting {elapsed:4.0f} s for {_label(s)}, zone {s.zone}: {s.last}" for s in lagging])
        if elapsed >= self._next_log and lagging:
            self.log(f"still waiting after {elapsed:.0f} s for "
                     + "; ".join(f"{_label(s)} (zone {s.zone}): {s.last}" for s in lagging))
            while self._next_log <= elapsed:
                self._next_log += self.interval

    def finish(self, servers: Sequence[Polled], elapsed: float) -> None:
        if self.live is not None:
            self._draw([])
        zones: dict[str, list[str]] = {}
        for s in servers:
            took = "not waited for" if s.took is None else f"{s.took:.1f} s"
            zones.setdefault(s.zone, []).append(f"{_label(s)} {took}")
        self.emit(f"all authoritative servers serve the TXT records after {elapsed:.1f} s: "
                  + "; ".join(f"zone {z}: {', '.join(items)}" for z, items in zones.items()))

    def _draw(self, lines: list[str]) -> None:
        assert self.live is not None
        out = (f"\x1b[{self._drawn}A" if self._drawn else "") + "\x1b[J" + "".join(l + "\n" for l in lines)
        self.live.write(out)
        self.live.flush()
        self._drawn = len(lines)


def quiet() -> Progress:
    return Progress(lambda message: None)

