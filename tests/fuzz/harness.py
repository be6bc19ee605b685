"""Run one fuzz case and judge it: success or the project's own error, nothing else.

A crash (any other exception) or a hang (a case over :data:`CASE_SECONDS`) is
saved as a JSON case (target name and base64 parts) under the crash directory:
``tests/fuzz/cases/`` for ``scripts/fuzz``, a temporary directory in CI, named
in the failure so it can be replayed and committed as a regression case.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import tempfile
import time
import traceback
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

from certbot_safedeploy.errors import SafeDeployError
from tests.fuzz import mutate as m
from tests.fuzz.targets import TARGETS, Parts, Target

CASES = Path(__file__).resolve().parent / "cases"
CASE_SECONDS = 20.0


class Hang(BaseException):
    """A case ran longer than CASE_SECONDS (BaseException: no ``except Exception`` swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: object) -> None:
        raise Hang(f"no result after {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _rmtree(path: Path) -> None:
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, d), 0o700)
    shutil.rmtree(path, ignore_errors=True)


_real_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    """Name lookups stay on this machine: addresses and localhost resolve, other names do not
    (a hostile reply's names must never make the suite query the system's resolver)."""
    text = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    try:
        loopback = host is None or text == "localhost" or ipaddress.ip_address(text.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise socket.gaierror(socket.EAI_NONAME, "fuzz: only loopback names resolve")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


@contextlib.contextmanager
def loopback_only() -> Iterator[None]:
    socket.getaddrinfo = _loopback_getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = _real_getaddrinfo


COUNTS = {"cases": 0, "seconds": 0.0}  # what this process judged (the CI summary line)


def judge(target: Target, parts: Parts) -> Optional[str]:
    """None when the outcome is allowed; else a description of the crash or hang."""
    started = time.monotonic()
    try:
        return _judge(target, parts)
    finally:
        COUNTS["cases"] += 1
        COUNTS["seconds"] += time.monotonic() - started


def _judge(target: Target, parts: Parts) -> Optional[str]:
    work = Path(tempfile.mkdtemp(prefix=f"fuzz-{target.name}-"))
    try:
        with time_limit(CASE_SECONDS), loopback_only():
            target.run(parts, work)
    except SafeDeployError as exc:
        if not str(exc).strip():
            return f"{type(exc).__name__} with an empty message"
        return None
    except target.allowed:
        return None
    except Hang as exc:
        return f"hang: {exc}"
    except Exception as exc:  # noqa: BLE001 - this is what the suite looks for
        return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:])
    finally:
        _rmtree(work)
    return None


def case_json(target: str, parts: Parts) -> str:
    return json.dumps({"target": target, "parts": [base64.b64encode(p).decode("ascii") for p in parts]}, indent=1)


def save(target: str, parts: Parts, directory: Optional[Path] = None) -> Path:
    if directory is None:
        chosen = os.environ.get("SAFEDEPLOY_FUZZ_CRASHES")
        directory = Path(chosen) if chosen else Path(tempfile.gettempdir()) / "safedeploy-fuzz-crashes"
    directory.mkdir(parents=True, exist_ok=True)
    body = case_json(target, parts)
    path = directory / f"{target}-{hashlib.sha256(body.encode()).hexdigest()[:12]}.json"
    path.write_text(body + "\n")
    return path


def load(path: Path) -> Tuple[str, Parts]:
    data = json.loads(path.read_text())
    return data["target"], [base64.b64decode(p) for p in data["parts"]]


def saved_cases() -> List[Path]:
    return sorted(CASES.glob("*.json"))


_SEEDS: dict = {}


def seeds_of(target: Target) -> List[Parts]:
    """A target's seeds, built once (building them draws ids from dnspython's random source)."""
    if target.name not in _SEEDS:
        _SEEDS[target.name] = target.seeds()
    return _SEEDS[target.name]  # type: ignore[no-any-return]


def generate(target: Target, rng: random.Random) -> Parts:
    """One mutated case: a seed, with 1-4 mutations on one or more of its parts."""
    seed_list = seeds_of(target)
    parts = list(seed_list[rng.randrange(len(seed_list))])
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        i = rng.randrange(len(parts))
        mutators = target.mutators[min(i, len(target.mutators) - 1)]
        parts[i] = m.mutate(rng, parts[i], mutators)
    return parts


def check(target_name: str, parts: Parts) -> None:
    """Assert the case is allowed; on a crash, save it and fail naming the file."""
    target = TARGETS[target_name]
    problem = judge(target, parts)
    if problem is not None:
        path = save(target_name, parts)
        raise AssertionError(f"fuzz target {target_name}: {problem}\ncase saved as {path} "
                             f"(copy it into tests/fuzz/cases/ to keep it as a regression case)")
