"""Real Debian services that read certbot's live/ files: doctor finds them, adopt moves them
behind the gate, renewals deploy through each preset, and a broken renewal is refused while
the service keeps serving the old certificate.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from certbot_safedeploy.config.load import load_config
from certbot_safedeploy.deploy import pipeline
from tests.pki import Issued, Pki, write_lineage

from .servers import Nginx, free_port
from .services_db import PostgresTls
from .services_ldap import Slapd
from .services_mail import Dovecot, Postfix, traversable_dir
from .services_oracle import served_leaf
from .services_web import Apache, HAProxy

NAME = "example.com"


@dataclasses.dataclass
class Case:
    root: Path
    pki: Pki
    port: int
    generation: int = 0
    key: Any = None  # reused by every renewal when set (reuse_key = True)

    @property
    def le(self) -> Path:
        return self.root / "letsencrypt"

    @property
    def live(self) -> Path:
        return self.le / "live" / NAME

    @property
    def config(self) -> Path:
        return self.root / "safedeploy.toml"

    def issue(self, broken: bool = False, reuse_key: bool = False) -> Issued:
        self.generation += 1
        leaf = self.pki.leaf(NAME, f"www.{NAME}", key=self.key)
        overrides = {"cert.pem": b"", "fullchain.pem": b""} if broken else None  # the 0-byte outage
        write_lineage(str(self.le), NAME, leaf, [self.pki.intermediate], version=self.generation,
                      overrides=overrides)
        (self.le / "renewal").mkdir(exist_ok=True)
        (self.le / "renewal" / f"{NAME}.conf").write_text(
            f"cert = {self.live}/cert.pem\nprivkey = {self.live}/privkey.pem\nchain = {self.live}/chain.pem\n"
            f"fullchain = {self.live}/fullchain.pem\n[renewalparams]\nauthenticator = webroot\n"
            + ("reuse_key = True\n" if self.key is not None else ""))
        return leaf

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, RENEWED_LINEAGE=str(self.live), RENEWED_DOMAINS=f"{NAME} www.{NAME}",
                   SAFEDEPLOY_CONFIG=str(self.config))
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", *args], env=env,
                              capture_output=True, text=True, timeout=120)


@dataclasses.dataclass(frozen=True)
class Kind:
    make: Callable[[Case], Any]
    starttls: str | None = None
    live_files: tuple[str, ...] = ("fullchain.pem", "privkey.pem")


def _nginx(c: Case) -> Nginx:
    nginx = Nginx(c.root / "nginx", tls_port=c.port, cert=c.live / "fullchain.pem", key=c.live / "privkey.pem")
    nginx.service, nginx.config = "nginx", nginx.conf  # type: ignore[attr-defined]
    return nginx


def _haproxy(c: Case) -> HAProxy:
    # haproxy >= 2.2 loads the key from "<crt>.key": a link users add beside certbot's files
    (c.live / "fullchain.pem.key").symlink_to("privkey.pem")
    return HAProxy(c.root / "haproxy", c.port, str(c.live / "fullchain.pem"))


def _pair(cls: Any, sub: str) -> Callable[[Case], Any]:
    return lambda c: cls(c.root / sub, c.port, str(c.live / "fullchain.pem"), str(c.live / "privkey.pem"))


KINDS = {
    "nginx": Kind(_nginx),
    "apache2": Kind(_pair(Apache, "apache2")),
    "haproxy": Kind(_haproxy, live_files=("fullchain.pem",)),
    "postfix": Kind(_pair(Postfix, "postfix"), "smtp"),
    "dovecot": Kind(_pair(Dovecot, "dovecot"), "imap"),
    "slapd": Kind(_pair(Slapd, "slapd"), "ldap"),
    "postgresql": Kind(_pair(PostgresTls, "postgresql"), "postgres"),
}


@pytest.fixture
def case() -> Iterator[Case]:
    root = traversable_dir("safedeploy-svc-")
    c = Case(root, Pki.create(), free_port())
    (root / "root.pem").write_bytes(c.pki.root.pem)
    c.config.write_text(f'trust_anchors = ["{root / "root.pem"}"]\nstate_dir = "{root / "state"}"\n')
    os.chmod(c.config, 0o600)
    yield c
    shutil.rmtree(root, ignore_errors=True)


def _serial(kind: Kind, c: Case) -> int:
    return served_leaf(kind.starttls, c.port).serial_number


def _doctor(c: Case, service: Any) -> list[dict[str, str]]:
    proc = c.cli("doctor", "--config-dir", str(c.le), "--config", str(c.config), "--system-root", str(c.root),
                 "--service-config", f"{service.service}={service.config}", "--json")
    return [f for f in json.loads(proc.stdout)["findings"] if f["check"] == "live-trap"]


def _switch_service_to(service: Any, c: Case, adopt_out: str) -> None:
    """Do what adopt printed for the service's own configuration (adopt never edits it)."""
    changes = [line[6:] for line in adopt_out.splitlines() if line.startswith("#   * ")]
    assert changes, adopt_out
    if service.service == "postfix":
        for change in changes:
            subprocess.run(change.split("   #")[0], shell=True, check=True)
        return
    if service.service == "slapd":
        return  # the tests' reload sets the new paths over ldapi
    config = Path(service.config)
    text = config.read_text()
    for change in changes:
        match = re.search(r"(/[^\s']+)'?   # was [<']?(/[^\s']+)", change)
        assert match, change
        text = text.replace(match.group(2), match.group(1))
    config.write_text(text)


def _adopt(c: Case, service: Any) -> tuple[str, list[str]]:
    """adopt --write; slapd (no reload signal) needs its restart written by hand."""
    args = ["adopt", NAME, "--service", service.service, "--config-dir", str(c.le), "--config", str(c.config),
            "--system-root", str(c.root), "--service-config", f"{service.service}={service.config}",
            "--connect", f"127.0.0.1:{c.port}"]
    proc = c.cli(*args, "--write")
    if service.service != "slapd":
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout, []
    assert proc.returncode == 1 and "has no reload command" in proc.stderr, proc.stdout + proc.stderr
    target = proc.stdout.split("\n\n")[0].split("\n", 1)[1]
    files = re.findall(r'path = "([^"]+)"', target)
    reload = service.reload_argv(files[0], files[1])
    with open(c.config, "a") as handle:
        handle.write("\n" + target + f"\nreload = {json.dumps(reload)}\n")
    for directory in {os.path.dirname(f) for f in files}:
        os.makedirs(directory, exist_ok=True)
    return proc.stdout, reload


@pytest.mark.parametrize("name", sorted(KINDS))
def test_service_adopted_renewed_and_broken_renewal_refused(case: Case, name: str) -> None:
    kind = KINDS[name]
    first = case.issue()
    service = kind.make(case).start()
    try:
        assert _serial(kind, case) == first.cert.serial_number
        # doctor finds the live/ trap, naming the service and every file
        trap = _doctor(case, service)
        assert [f["severity"] for f in trap] == ["error"], trap
        for part in kind.live_files:
            assert f"{case.live}/{part}" in trap[0]["message"] and name in trap[0]["message"]
        assert "[[target]]" in trap[0]["fix"]
        # adopt appends a target with the preset; deploying installs the service's own copies
        out, reload = _adopt(case, service)
        target = load_config(str(case.config)).targets[0]
        assert target.service == name and target.probe is not None and target.probe.port == case.port
        assert all(f.path.startswith(str(Path(service.config).parent if name != "postfix" else service.config))
                   for f in target.files)
        dry = case.cli("deploy", "--dry-run")
        assert f"service {name} preset" in dry.stdout and f"check {list(target.check) or '-'}," in dry.stdout, dry.stdout
        proc = case.cli("deploy")
        assert proc.returncode == pipeline.DEPLOYED, proc.stdout + proc.stderr
        _switch_service_to(service, case, out)
        subprocess.run(reload or list(target.reload), check=True, capture_output=True)
        assert _serial(kind, case) == first.cert.serial_number
        trap = _doctor(case, service)
        assert trap and {f["severity"] for f in trap} == {"ok"} and "protected" in trap[0]["message"], trap
        # a renewal deploys through the preset's check, reload and probe
        second = case.issue()
        proc = case.cli("deploy")
        assert proc.returncode == pipeline.DEPLOYED, proc.stdout + proc.stderr
        assert "serves the expected certificate" in proc.stdout
        assert _serial(kind, case) == second.cert.serial_number
        # the 0-byte renewal is refused: nothing changes, the service keeps serving
        before = {f.path: Path(f.path).read_bytes() for f in target.files}
        case.issue(broken=True)
        proc = case.cli("deploy")
        assert proc.returncode == pipeline.REFUSED, proc.stdout + proc.stderr
        assert {f.path: Path(f.path).read_bytes() for f in target.files} == before
        subprocess.run(reload or list(target.reload), check=True, capture_output=True)
        assert _serial(kind, case) == second.cert.serial_number
    finally:
        service.stop()


def test_adopted_pin_follows_a_reused_key_and_refuses_a_foreign_one(case: Case) -> None:
    """With reuse_key, adopt writes the current key's pin: renewals with that key deploy,
    a renewal carrying another key is refused and nginx keeps serving."""
    from tests.pki import new_key

    kind = KINDS["nginx"]
    case.key = new_key()
    case.issue()
    service = kind.make(case).start()
    try:
        out, _ = _adopt(case, service)
        target = load_config(str(case.config)).targets[0]
        assert len(target.pins) == 1 and "RFC 7469" in out
        assert case.cli("deploy").returncode == pipeline.DEPLOYED
        _switch_service_to(service, case, out)
        subprocess.run(list(target.reload), check=True, capture_output=True)
        renewed = case.issue()
        proc = case.cli("deploy")
        assert proc.returncode == pipeline.DEPLOYED, proc.stdout + proc.stderr
        assert _serial(kind, case) == renewed.cert.serial_number
        case.key = new_key()
        case.issue()
        proc = case.cli("deploy")
        assert proc.returncode == pipeline.REFUSED and "pin" in proc.stderr, proc.stdout + proc.stderr
        assert _serial(kind, case) == renewed.cert.serial_number
    finally:
        service.stop()
