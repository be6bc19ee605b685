"""One ARI pass over lineages: ask the CA (unless Retry-After says wait), decide, remember.

This module decides; it never renews.  ``commands/ari.py`` runs certbot for each
:class:`Outcome` that is ``due``.  Requests go out a few at a time (a small thread
pool): first each distinct ACME directory once, then each certificate's
renewalInfo.  Any failure is one line for its lineage and never makes it due.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import random
from typing import Callable, Iterable, Sequence

from cryptography import x509

from certbot_safedeploy.ari import record as records
from certbot_safedeploy.ari.certid import CertIdError, cert_id
from certbot_safedeploy.ari.fetch import Client
from certbot_safedeploy.ari.schedule import failure_backoff, keep_or_choose, verdict
from certbot_safedeploy.errors import SafeDeployError
from certbot_safedeploy.syntax.renewalinfo import (DEFAULT_RETRY_AFTER, AnswerError, Window, format_time,
                                                   parse_renewal_info, parse_renewal_info_url, parse_retry_after)

WORKERS = 4
DUE, WAITING, NOT_OFFERED, FAILED = "due", "waiting", "not offered", "failed"

# Revoked means renew now (issue 17's CRL check plugs in here): called with the lineage
# name and its certificate; a non-empty answer ("listed on CRL http://... since ...")
# makes the lineage due before and whatever ARI says.
RevocationCheck = Callable[[str, x509.Certificate], "str | None"]


@dataclasses.dataclass(frozen=True)
class Subject:
    """One lineage to check: its name, its current certificate and its CA's directory URL."""

    name: str
    cert: x509.Certificate
    directory: str
    certbot: str = ""  # the certbot version that last wrote the renewal conf


@dataclasses.dataclass(frozen=True)
class Outcome:
    name: str
    state: str  # DUE, WAITING, NOT_OFFERED or FAILED
    line: str
    window: Window | None = None
    chosen: float | None = None
    asked: bool = False  # a renewalInfo request was sent in this pass

    @property
    def due(self) -> bool:
        return self.state == DUE


def _line(name: str, text: str, window: Window | None) -> str:
    if window is not None and window.explanation_url:
        text += f"; the CA explains: {window.explanation_url}"
    return f"{name}: {text}"


class Pass:
    """State shared by one pass (the client, the directories already read)."""

    def __init__(self, state_dir: str, client: Client, now: float, *, save: bool = True,
                 rng: random.Random | None = None, revoked: RevocationCheck | None = None,
                 next_wake: float | None = None) -> None:
        self.state_dir, self.client, self.now, self.save = state_dir, client, now, save
        self.rng, self.revoked, self.next_wake = rng, revoked, next_wake
        self.directories: dict[str, str | None | SafeDeployError] = {}
        self.warnings: list[str] = []

    def run(self, subjects: Sequence[Subject], workers: int = WORKERS) -> list[Outcome]:
        prepared = [self._prepare(s) for s in subjects]
        to_ask = [p for p in prepared if isinstance(p, tuple)]
        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            wanted = sorted({s.directory for s, _, _ in to_ask})
            for url, found in zip(wanted, pool.map(self._directory, wanted)):
                self.directories[url] = found
            asked = dict(zip((s.name for s, _, _ in to_ask), pool.map(lambda p: self._ask(*p), to_ask)))
        return [p if isinstance(p, Outcome) else asked[p[0].name] for p in prepared]

    def _prepare(self, subject: Subject) -> Outcome | tuple[Subject, str, records.Record | None]:
        """An Outcome that needs no request, or what a request needs."""
        name = subject.name
        if self.revoked is not None:
            listed = self.revoked(name, subject.cert)
            if listed:
                return Outcome(name, DUE, f"{name}: revoked ({listed}): renewing now, whatever ARI says")
        try:
            cid = cert_id(subject.cert)
        except CertIdError as exc:
            return Outcome(name, FAILED, f"{name}: no ARI check: {exc}")
        try:
            old = records.load(self.state_dir, name, cid)
        except ValueError as exc:
            return Outcome(name, FAILED, f"{name}: {exc}")
        if old is not None and self.now < old.next_check:
            wait = f"next check at {format_time(old.next_check)} (Retry-After)"
            if old.window is None or old.chosen is None:
                error = f": {old.last_error}" if old.last_error else ""
                return Outcome(name, FAILED if old.last_error else WAITING,
                               f"{name}: no window yet{error}; {wait}")
            judged = verdict(old.window, old.chosen, self.now, first_seen=False, next_wake=self.next_wake)
            return Outcome(name, DUE if judged.due else WAITING, _line(name, f"{judged.why}; {wait}", old.window),
                           old.window, old.chosen)
        return subject, cid, old

    def _directory(self, url: str) -> str | None | SafeDeployError:
        try:
            answer = self.client.get(url)
            if answer.status != 200:
                return AnswerError(f"the ACME directory {url} answered HTTP {answer.status}")
            return parse_renewal_info_url(answer.body)
        except SafeDeployError as exc:
            return exc

    def _ask(self, subject: Subject, cid: str, old: records.Record | None) -> Outcome:
        name, found = subject.name, self.directories.get(subject.directory)
        if found is None:
            return Outcome(name, NOT_OFFERED, f"{name}: the CA at {subject.directory} offers no renewalInfo "
                                              "(ARI): left to certbot's own schedule")
        if isinstance(found, SafeDeployError):
            return Outcome(name, FAILED, f"{name}: no ARI check: {found}")
        url = found.rstrip("/") + "/" + cid
        retry_after: str | None = None
        try:
            answer = self.client.get(url)
            retry_after = answer.retry_after
            if answer.status != 200:
                raise AnswerError(f"renewalInfo answered HTTP {answer.status}"
                                  + (" (the CA does not know this certificate)" if answer.status == 404 else ""))
            window = parse_renewal_info(answer.body)
        except SafeDeployError as exc:
            return self._failed(subject, cid, old, exc, retry_after)
        wait = parse_retry_after(retry_after, self.now) or DEFAULT_RETRY_AFTER
        first_seen = old is None or old.window is None or (old.window.start, old.window.end) != (
            window.start, window.end)
        chosen = keep_or_choose(window, old.window if old else None, old.chosen if old else None, self.rng)
        judged = verdict(window, chosen, self.now, first_seen=first_seen, next_wake=self.next_wake)
        self._store(name, records.Record(cid, self.now + wait, window, chosen, self.now, 0, "",
                                         old.renewed_at if old else None))
        return Outcome(name, DUE if judged.due else WAITING,
                       _line(name, f"{judged.why}; next check at {format_time(self.now + wait)}", window),
                       window, chosen, asked=True)

    def _failed(self, subject: Subject, cid: str, old: records.Record | None, exc: SafeDeployError,
                retry_after: str | None) -> Outcome:
        failures = (old.failures if old else 0) + 1
        wait = max(parse_retry_after(retry_after, self.now) or 0, failure_backoff(failures))
        message = exc.message if exc.message else str(exc)
        self._store(subject.name, records.Record(cid, self.now + wait, old.window if old else None,
                                                 old.chosen if old else None, self.now, failures, message[:500],
                                                 old.renewed_at if old else None))
        return Outcome(subject.name, FAILED, f"{subject.name}: ARI check failed, nothing renewed: {message} "
                                             f"(failure {failures} in a row; next check at "
                                             f"{format_time(self.now + wait)})", asked=True)

    def _store(self, name: str, rec: records.Record) -> None:
        if self.save:
            try:
                records.save(self.state_dir, name, rec)
            except (OSError, SafeDeployError) as exc:  # the check stands; only the memory of it is lost
                self.warnings.append(f"{name}: warning: cannot keep the ARI state in {self.state_dir}: {exc}")


def mark_renewed(state_dir: str, name: str, cid: str, when: float) -> None:
    """Note that certbot ran for this certificate (doctor shows it)."""
    old = records.load(state_dir, name, cid) or records.Record(cid)
    records.save(state_dir, name, dataclasses.replace(old, renewed_at=when))


def names(outcomes: Iterable[Outcome], state: str) -> list[str]:
    return [o.name for o in outcomes if o.state == state]
