"""Entry points for certbot's ``--manual-auth-hook`` / ``--manual-cleanup-hook``.

They do exactly what the plugin does, through the same solvers: tokens with an
HTTP self-check, TSIG UPDATEs with a wait on every authoritative server.  On
dns-01 they batch: each call sends its UPDATE at once, and the call with
``CERTBOT_REMAINING_CHALLENGES=0`` waits for all of them together.  Settings come
from the ``[challenge]`` table of the safedeploy config.  Nothing here imports
certbot.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Mapping

from certbot_safedeploy.challenges.dns01 import Dns01Solver, TxtRecord
from certbot_safedeploy.challenges.http01 import Http01Solver, HttpChallenge
from certbot_safedeploy.challenges.progress import Progress
from certbot_safedeploy.config.challenge_section import ChallengeSettings
from certbot_safedeploy.challenges.state import ManualState
from certbot_safedeploy.syntax.acme_values import check_domain, check_token
from certbot_safedeploy.challenges.webroot import CreatedToken
from certbot_safedeploy.config.model import Config
from certbot_safedeploy.config.load import check_key_paths, config_path, load_config
from certbot_safedeploy.errors import ChallengeError, SafeDeployError


def _settings(config: Config) -> ChallengeSettings:
    settings = config.challenge
    if settings is None:
        raise ChallengeError("the config has no [challenge] table", path=config.source,
                             fix="add [challenge] with webroot_map and/or nsupdate_server + tsig_key")
    check_key_paths(settings, config.source)
    return settings


def _warn(message: str) -> None:
    sys.stderr.write(f"safedeploy: warning: {message}\n")


def _info(message: str) -> None:
    sys.stderr.write(f"safedeploy: {message}\n")
    sys.stderr.flush()


def _progress() -> Progress:
    """Live lines on a terminal; otherwise a line every 10 s (certbot logs hook stderr)."""
    live = sys.stderr if sys.stderr.isatty() else None
    return Progress(_info, log=(lambda message: None) if live else _info, live=live)


def _remove(entry: Mapping[str, Any], settings: ChallengeSettings) -> None:
    if entry["kind"] == "http-01":
        Http01Solver.cleanup([CreatedToken(entry["path"], tuple(entry["created_dirs"]))])
    else:
        Dns01Solver(settings, warn=_warn).remove([_record(entry)])


def _record(entry: Mapping[str, Any]) -> TxtRecord:
    """The TXT record of a dns-01 entry (entries from before zone entries hold zone/name/value only)."""
    if "record" in entry:
        return TxtRecord.from_json(dict(entry["record"]))
    return TxtRecord(entry["zone"], entry["name"], entry["value"])


def _hand_over_dirs(entry: Mapping[str, Any], entries: dict[str, dict[str, Any]]) -> None:
    """Directories an http-01 entry created but could not remove (another name's token is
    still in them, e.g. names sharing one webroot) go to an entry with a token there."""
    for directory in entry.get("created_dirs", []):
        if not os.path.isdir(directory):
            continue
        for other in entries.values():
            if other.get("kind") == "http-01" and other.get("path", "").startswith(directory + os.sep):
                if directory not in other["created_dirs"]:
                    other["created_dirs"].append(directory)
                break


def _dns_auth(settings: ChallengeSettings, state: ManualState, entry_id: str, domain: str, validation: str,
              remaining: int) -> None:
    solver = Dns01Solver(settings, warn=_warn, progress=_progress())
    [record] = solver.plan([(f"_acme-challenge.{domain}", validation)])
    solver.add([record])
    with state.locked() as entries:
        entries[entry_id] = {"kind": "dns-01", "created": time.time(), "record": record.to_json(),
                             "value": record.value, "waited": False}
    if remaining == 0:  # last challenge of this certbot run: wait once, for every pending value
        with state.locked() as entries:
            pending = {k: v for k, v in entries.items() if v["kind"] == "dns-01" and not v.get("waited")}
        solver.wait([_record(v) for v in pending.values()])
        with state.locked() as entries:
            for key in pending:
                if key in entries:
                    entries[key]["waited"] = True


def manual_auth(env: Mapping[str, str], config: Config) -> str:
    """Create the challenge response; return the id for CERTBOT_AUTH_OUTPUT."""
    settings = _settings(config)
    # certbot >= 5 sets CERTBOT_IDENTIFIER (same value as CERTBOT_DOMAIN: the base name of a wildcard)
    domain = check_domain(env.get("CERTBOT_IDENTIFIER") or env.get("CERTBOT_DOMAIN", ""))
    validation = env.get("CERTBOT_VALIDATION", "")
    if not validation:
        raise ChallengeError("CERTBOT_VALIDATION is not set: run this as certbot's --manual-auth-hook")
    for part in validation.split("."):  # key authorization (token.thumbprint) or its digest
        check_token(part)
    remaining_text = env.get("CERTBOT_REMAINING_CHALLENGES", "0") or "0"
    if not remaining_text.isdigit():
        raise ChallengeError(f"CERTBOT_REMAINING_CHALLENGES={remaining_text[:20]!r} is not a number")
    state = ManualState(config.state_dir)
    with state.locked() as entries:
        for key in state.stale(entries):  # a crash between auth and cleanup left these
            try:
                _remove(entries[key], settings)
            except (SafeDeployError, KeyError, TypeError) as exc:
                _warn(f"could not remove a stale challenge record: {exc}")
                continue
            del entries[key]
    entry_id = state.new_id()
    token = env.get("CERTBOT_TOKEN")
    if token:
        created = Http01Solver(settings, warn=_warn).perform([HttpChallenge(domain, token, validation)])[0]
        with state.locked() as entries:
            entries[entry_id] = {"kind": "http-01", "created": time.time(), "path": created.path,
                                 "created_dirs": list(created.created_dirs)}
        return entry_id
    _dns_auth(settings, state, entry_id, domain, validation, int(remaining_text))
    return entry_id


def manual_cleanup(env: Mapping[str, str], config: Config) -> None:
    settings = _settings(config)
    state = ManualState(config.state_dir)
    wanted = env.get("CERTBOT_AUTH_OUTPUT", "").strip().splitlines()
    entry_id = wanted[-1].strip() if wanted else ""
    with state.locked() as entries:
        if entry_id not in entries:  # fall back to matching what certbot tells us
            domain, validation = env.get("CERTBOT_DOMAIN", ""), env.get("CERTBOT_VALIDATION", "")
            matches = [k for k, v in entries.items()
                       if v.get("value") == validation or (env.get("CERTBOT_TOKEN") and
                                                           v.get("path", "").endswith("/" + env["CERTBOT_TOKEN"]))]
            if not matches:
                _warn(f"nothing recorded for {domain}; nothing to clean up")
                return
            entry_id = matches[0]
        entry = entries.pop(entry_id)
        try:
            _remove(entry, settings)
        except (KeyError, TypeError):
            raise ChallengeError(f"the state entry {entry_id} is malformed", path=state.path,
                                 fix="remove what it names by hand, then delete the entry") from None
        if entry["kind"] == "http-01":
            _hand_over_dirs(entry, entries)


def run_hook(kind: str) -> int:
    """``hooks/manual-auth`` and ``hooks/manual-cleanup`` call this."""
    config: Config | None = None
    try:
        config = load_config(config_path())
        if kind == "auth":
            print(manual_auth(os.environ, config))
        else:
            manual_cleanup(os.environ, config)
        from certbot_safedeploy.system.syslogger import log

        log("info", f"manual-{kind} for {os.environ.get('CERTBOT_DOMAIN', '?')}: done")
    except Exception as exc:  # one line, never a traceback: certbot shows hook stderr to the user
        domain = os.environ.get("CERTBOT_DOMAIN", "?")
        if not isinstance(exc, (SafeDeployError, OSError)):
            exc = ChallengeError(f"unexpected {type(exc).__name__}: {exc}",
                                 fix="report this with the command and config that caused it")
        sys.stderr.write(f"safedeploy manual-{kind} for {domain} failed: {exc}\n")
        from certbot_safedeploy.report.notify import notify_failure

        # a broken config: syslog only
        notify_failure(f"manual-{kind}", domain, str(exc), settings=config.notify if config else None)
        return 1
    return 0
