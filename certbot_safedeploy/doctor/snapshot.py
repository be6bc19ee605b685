"""Read everything doctor judges: renewal confs, lineages, hooks, schedulers, modes."""

from __future__ import annotations

import dataclasses
import datetime
import glob
import os
import stat
from typing import Sequence

from cryptography import x509

from certbot_safedeploy.system import readfile
from certbot_safedeploy.verify.parsing import PARSE_ERRORS, why
from certbot_safedeploy.verify.chain import not_after, not_before
from certbot_safedeploy.material.renewalconf import RenewalConf, parse_renewal_conf
from certbot_safedeploy.doctor.scheduling import Scheduling, read_scheduling
from certbot_safedeploy.doctor.scheduling import read_limited as _read


@dataclasses.dataclass(frozen=True)
class FileState:
    path: str
    exists: bool
    broken_link: bool = False
    mode: int = 0
    uid: int = 0


@dataclasses.dataclass(frozen=True)
class Lineage:
    name: str
    conf: RenewalConf
    files: dict[str, FileState]  # cert, privkey, chain, fullchain (paths from the conf)
    not_before: datetime.datetime | None
    not_after: datetime.datetime | None
    parse_error: str = ""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    config_dir: str
    lineages: list[Lineage]
    live_names: set[str]
    deploy_hooks: dict[str, str]  # path -> text (first 4 KiB) of executable files
    schedulers: list[tuple[str, str]]  # (file, line)
    certbot_timer_enabled: list[str]
    sensitive_files: list[tuple[str, FileState]]  # (kind, state)
    now: datetime.datetime
    scheduling: Scheduling


def file_state(path: str) -> FileState:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return FileState(path, False, broken_link=os.path.islink(path))
    except (OSError, ValueError):  # ValueError: a NUL in a path a renewal config names
        return FileState(path, False)
    return FileState(path, True, mode=stat.S_IMODE(st.st_mode), uid=st.st_uid)


def _lineage(conf: RenewalConf) -> Lineage:
    files: dict[str, FileState] = {k: file_state(conf.top[k]) for k in ("cert", "privkey", "chain", "fullchain")
                                   if k in conf.top}
    start = end = None
    error = ""
    cert = files.get("cert")
    if cert and cert.exists:
        data = _read(cert.path, 1 << 20).encode()
        try:
            leaf = x509.load_pem_x509_certificate(data)
            start, end = not_before(leaf), not_after(leaf)
        except PARSE_ERRORS as exc:
            error = f"cannot parse: {why(exc)}"
    return Lineage(conf.name, conf, files, start, end, error)


SCHEDULER_WORDS = ("certbot", "letsencrypt", "acme.sh", "acme_tiny", "dehydrated", "lego ", "getssl")


def _cron_schedulers(root: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    cron_files = [os.path.join(root, "etc/crontab")]
    cron_files += sorted(glob.glob(os.path.join(root, "etc/cron.d/*")))
    cron_files += sorted(glob.glob(os.path.join(root, "var/spool/cron/crontabs/*")))
    cron_files += sorted(glob.glob(os.path.join(root, "etc/cron.daily/*")))
    cron_files += sorted(glob.glob(os.path.join(root, "etc/cron.weekly/*")))
    for path in cron_files:
        text = _read(path)
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or not any(w in stripped for w in SCHEDULER_WORDS):
                continue
            if "/run/systemd/system" in stripped and "-d /run/systemd/system" in stripped.replace("\\!", "!"):
                continue  # Debian's guard: cron defers to certbot.timer where systemd runs
            found.append((path, stripped))
            break
    return found


def take_snapshot(config_dir: str, system_root: str = "/",
                  extra_sensitive: Sequence[tuple[str, str]] = ()) -> Snapshot:
    confs = []
    for path in sorted(glob.glob(os.path.join(config_dir, "renewal", "*.conf"))):
        name = os.path.basename(path)[: -len(".conf")]
        confs.append(parse_renewal_conf(name, path, _read(path)))
    lineages = [_lineage(c) for c in confs]
    live_dir = os.path.join(config_dir, "live")
    live_names = {n for n in os.listdir(live_dir) if os.path.isdir(os.path.join(live_dir, n))} \
        if os.path.isdir(live_dir) else set()
    hooks: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(config_dir, "renewal-hooks", "deploy", "*"))):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            hooks[path] = _read(path, 4096)
    schedulers = _cron_schedulers(system_root)
    # the admin's own environment counts only for the machine itself, not a tree under a test root
    scheduling = read_scheduling(system_root, os.environ if os.path.realpath(system_root) == "/" else None)
    timers = [t.enabled for t in scheduling.timers if t.enabled]
    sensitive: list[tuple[str, FileState]] = []
    for lineage in lineages:
        key = lineage.files.get("privkey")
        if key and key.exists:
            sensitive.append(("private key", key))
        tsig = lineage.conf.params.get("safedeploy_tsig_key")
        if tsig and tsig != "None":
            sensitive.append(("TSIG key", file_state(tsig)))
    for kind, path in extra_sensitive:
        sensitive.append((kind, file_state(path)))
    if os.path.lexists(scheduling.sysconfig):  # its hooks are commands certbot-renew.service runs as root
        sensitive.append(("certbot sysconfig", file_state(scheduling.sysconfig)))
    return Snapshot(config_dir, lineages, live_names, hooks, schedulers, timers, sensitive,
                    datetime.datetime.now(datetime.timezone.utc), scheduling)
