"""Service effects: run the check and reload commands, probe the served certificate."""

from __future__ import annotations

import dataclasses
import ssl
import subprocess
import time
from typing import Callable, Optional, Sequence

from certbot_safedeploy.config.target_section import Probe
from certbot_safedeploy.deploy.tlsclient import Served, fetch

COMMAND_TIMEOUT = 120.0
CONSECUTIVE = 3  # matching handshakes in a row before a probe counts as passed


@dataclasses.dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    ok: bool
    detail: str  # exit status and the last lines of output


def run_command(argv: Sequence[str], timeout: float = COMMAND_TIMEOUT) -> CommandResult:
    """Run ``argv`` without a shell; capture a short tail of its output."""
    try:
        proc = subprocess.run(list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except FileNotFoundError:
        return CommandResult(tuple(argv), False, f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return CommandResult(tuple(argv), False, f"timed out after {timeout:.0f} s")
    except OSError as exc:
        return CommandResult(tuple(argv), False, f"cannot run: {exc.strerror}")
    tail = " | ".join(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-3:])
    return CommandResult(tuple(argv), proc.returncode == 0,
                         f"exit {proc.returncode}" + (f": {tail}" if tail else ""))


def fetch_served(probe: Probe) -> Served:
    """The leaf and chain the service presents for ``probe.servername`` (STARTTLS first if set)."""
    return fetch(probe.host, probe.port, probe.servername, min(probe.timeout, 5), probe.starttls)


def fetch_served_leaf(probe: Probe) -> bytes:
    """DER of the leaf the service serves for ``probe.servername``."""
    return fetch_served(probe).leaf


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    ok: bool
    detail: str


Judge = Callable[[Served], Optional[str]]  # what is wrong with a served chain, or None


def probe_until(probe: Probe, expected: bytes | None, judge: Judge | None = None) -> ProbeResult:
    """Poll until the served leaf equals ``expected`` (or, if None, any TLS answer).

    A reload is asynchronous: old workers keep accepting for a moment while they
    shut down.  So the probe retries until ``probe.timeout`` and only succeeds
    after :data:`CONSECUTIVE` matching handshakes in a row.  Once the expected
    leaf is served, ``judge`` looks at the whole chain: a problem there is final
    (the new configuration sends it), so the probe fails at once.
    """
    deadline = time.monotonic() + probe.timeout
    last = "no answer"
    delay = 0.05
    streak = 0
    while True:
        try:
            served = fetch_served(probe)
        except (OSError, ssl.SSLError) as exc:
            streak = 0
            last = f"TLS connection to {probe} failed: {exc}"
        else:
            if expected is None or served.leaf == expected:
                problem = judge(served) if judge is not None else None
                if problem:
                    return ProbeResult(False, f"{probe}: {problem}")
                streak += 1
                if streak >= CONSECUTIVE:
                    chain = " with a chain a client validates" if judge is not None else ""
                    return ProbeResult(True, f"{probe} serves the expected certificate{chain}")
                time.sleep(0.1)
                continue
            streak = 0
            last = f"{probe.host}:{probe.port} (SNI {probe.servername}) still serves another certificate"
        if time.monotonic() >= deadline:
            return ProbeResult(False, last)
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
