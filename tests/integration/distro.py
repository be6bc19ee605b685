"""A distribution's certbot, run the way its timer runs it, kept apart from the host's certbot.

Every certbot reads ``/etc/letsencrypt/cli.ini`` whatever ``--config-dir`` says
(``-c FILE`` only adds a file), and Debian's certbot package installs one, with
a cron file and ``certbot.timer``.  The tests neither read nor change any of
them: each certbot runs in a private mount namespace in which a directory of the
test is bind-mounted over ``/etc/letsencrypt`` (so the default safedeploy config
path resolves there too), with ``XDG_CONFIG_HOME`` empty.  ``host_state`` is
compared before and after to prove the machine is left as found.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509

from .acmebed import Certbot, Pebble
from .servers import Nginx, free_port

# the environment of a systemd timer or cron job: no venv, no pyenv, no SAFEDEPLOY_CONFIG
TIMER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_PATHS = ("/etc/letsencrypt", "/etc/cron.d/certbot", "/var/lib/letsencrypt", "/var/log/letsencrypt",
              "/lib/systemd/system/certbot.timer", "/etc/systemd/system/timers.target.wants")

_WRAPPER = """#!/bin/sh
# {certbot} in a private mount namespace where /etc/letsencrypt is {etc}
export XDG_CONFIG_HOME={xdg}
exec unshare --mount --propagation private -- \\
  /bin/sh -c 'mount --bind "$0" /etc/letsencrypt && exec "$@"' {etc} {certbot} "$@"
"""


def host_state() -> dict[str, str]:
    """What a certbot run could change on the host: listings and hashes of certbot's paths."""
    state: dict[str, str] = {}
    for top in HOST_PATHS:
        for root, dirs, files in os.walk(top) if os.path.isdir(top) else [("", [], [top])]:
            dirs.sort()
            for name in [*dirs, *sorted(files)]:
                path = os.path.join(root, name)
                st = os.lstat(path) if os.path.lexists(path) else None
                digest = ""
                if st and os.path.isfile(path) and not os.path.islink(path):
                    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                state[path] = f"{st.st_mode:o} {st.st_size} {digest}" if st else "absent"
    enabled = subprocess.run(["systemctl", "is-enabled", "certbot.timer"], capture_output=True, text=True)
    state["systemctl is-enabled certbot.timer"] = enabled.stdout.strip()
    return state


@pytest.fixture(scope="module", autouse=True)
def machine_left_as_found() -> Iterator[None]:
    """Import into a test module: fails it if certbot's files on the host changed."""
    before = host_state()
    yield
    assert host_state() == before


class IsolatedCertbot(Certbot):
    """acmebed's Certbot runner around a wrapper that hides the host's /etc/letsencrypt."""

    def __init__(self, base: Path, pebble: Pebble, executable: str) -> None:
        base.mkdir(parents=True, exist_ok=True)
        self.etc = base / "etc-letsencrypt"
        (base / "xdg").mkdir(exist_ok=True)
        self.etc.mkdir(mode=0o755, exist_ok=True)
        wrapper = base / "certbot"
        wrapper.write_text(_WRAPPER.format(certbot=executable, etc=self.etc, xdg=base / "xdg"))
        wrapper.chmod(0o755)
        super().__init__(base, pebble, executable=str(wrapper))

    def timer_renew(self) -> subprocess.CompletedProcess[str]:
        """``certbot -q renew`` as certbot.timer runs it: only the saved renewal options."""
        argv = [self.executable, "-q", "renew", "--no-random-sleep-on-renew",
                "--config-dir", str(self.config_dir), "--work-dir", str(self.base / "work"),
                "--logs-dir", str(self.base / "logs")]
        env = {"PATH": TIMER_PATH, "LANG": "C.UTF-8", "REQUESTS_CA_BUNDLE": str(self.pebble.listener_ca)}
        return subprocess.run(argv, capture_output=True, text=True, timeout=300, env=env)

    def make_due(self, name: str) -> None:
        """Let renewal/<name>.conf say the certificate is due (a saved option, as a user may set)."""
        conf = self.config_dir / "renewal" / f"{name}.conf"
        conf.write_text("renew_before_expiry = 36500 days\n" + conf.read_text())


def timed(what: str, platform: str, run):
    """Run ``run()``, print how long it took (shown by scripts/test), return its result."""
    start = time.monotonic()
    result = run()
    print(f"[{platform}] {what}: {time.monotonic() - start:.1f} s", flush=True)
    return result


class Site:
    """nginx serving TLS from files that `certbot-safedeploy deploy` installs from a lineage."""

    def __init__(self, base: Path, config: Path, lineage: str, trust_anchor: Path) -> None:
        self.base, self.config, self.lineage, self.trust_anchor = base, config, lineage, trust_anchor
        self.dest = base / "tls"
        self.dest.mkdir(parents=True)
        self.port = free_port()
        self.nginx: Nginx | None = None

    def write_config(self) -> None:
        target = ""
        if self.nginx:
            target = (f"check = {json.dumps(self.nginx.check_argv())}\n"
                      f"reload = {json.dumps(self.nginx.reload_argv())}\n"
                      f'probe = {{ connect = "127.0.0.1:{self.port}", servername = "{self.lineage}", '
                      "timeout = 10 }\n")
        self.config.write_text(f"""\
trust_anchors = ["{self.trust_anchor}"]
state_dir = "{self.base / 'state'}"
[[target]]
name = "web"
lineage = "{self.lineage}"
files = [
  {{ path = "{self.dest}/site.crt", content = ["fullchain"] }},
  {{ path = "{self.dest}/site.key", content = ["privkey"] }},
]
{target}""")
        self.config.chmod(0o600)

    def start_nginx(self) -> None:
        self.nginx = Nginx(self.base / "nginx", tls_port=self.port, cert=self.dest / "site.crt",
                           key=self.dest / "site.key").start()
        self.write_config()

    def stop(self) -> None:
        if self.nginx:
            self.nginx.stop()


_PROBE = """import sys, importlib.metadata as m
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return "-"
print(sys.version.split()[0], *(n + "=" + version(n) for n in sys.argv[1:]))"""


def versions(python: str, names: list[str]) -> tuple[str, dict[str, str]]:
    """(Python version, {distribution: version}) as ``python`` sees them, outside any venv
    ("-" for a distribution that is not installed)."""
    out = run_ok([python, "-c", _PROBE, *names], env={"PATH": "/usr/bin:/bin"}, cwd="/").stdout.split()
    return out[0], dict(pair.split("=", 1) for pair in out[1:])


def run_ok(argv: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    assert proc.returncode == 0, f"{argv}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def issue_verify_deploy_renew(acme, certbot: IsolatedCertbot, cli: str, platform: str,
                              base: Path) -> None:
    """The life of one certificate on a platform, with that platform's certbot and our command:
    issue (http-01 + dns-01 with -a safedeploy), verify, first deploy into nginx, install the
    hooks, then an unattended timer-style renewal whose deploy hook reloads nginx."""
    from .test_deploy_nginx import served_serial
    from .test_plugin_e2e import challenge_types, ok

    name, domains = "web.example.test", ["web.example.test", "*.example.test"]
    args = acme.plugin_args(webroot_map={"web.example.test": str(acme.webroot)})
    ok(timed("certonly -a safedeploy, http-01 + dns-01 (web.example.test, *.example.test)", platform,
             lambda: certbot.certonly(domains, *args)))
    assert challenge_types(certbot) == {"http-01", "dns-01"}
    live = str(certbot.live(name))
    root = acme.pebble.issuing_roots()
    verified = run_ok([cli, "verify", live, "--trust-anchor", str(root), "--domain", "web.example.test",
                       "--domain", "a.example.test"])
    assert verified.stdout.strip().endswith(f"{live}: OK (0 error(s), 0 warning(s))"), verified.stdout

    site = Site(base / "site", certbot.etc / "safedeploy.toml", name, root)
    try:
        site.write_config()
        run_ok([cli, "deploy", "--lineage", live, "--config", str(site.config)])
        site.start_nginx()
        first = served_serial(site.port)
        installed = run_ok([cli, "install", "--config-dir", str(certbot.config_dir), "--config", str(site.config)])
        assert "config" in installed.stdout and "OK (1 target(s))" in installed.stdout, installed.stdout
        certbot.make_due(name)
        ok(timed("certbot -q renew (timer-style, saved options) + deploy hook into nginx", platform,
                 certbot.timer_renew))
        assert (certbot.config_dir / "archive" / name / "cert2.pem").exists()
        renewed = served_serial(site.port)
        assert renewed != first
        assert renewed == x509.load_pem_x509_certificate(
            (certbot.live(name) / "cert.pem").read_bytes()).serial_number
    finally:
        site.stop()


def issue_dns01_alone(acme, certbot: IsolatedCertbot, platform: str) -> None:
    """certonly -a safedeploy for a name and its wildcard: dns-01 alone, the lineage verified."""
    from .test_plugin_e2e import assert_issued, challenges_used, ok

    domains = ["example.test", "*.example.test"]
    ok(timed("certonly -a safedeploy, dns-01 (example.test, *.example.test)", platform,
             lambda: certbot.certonly(domains, *acme.plugin_args())))
    assert_issued(certbot, "example.test", ["example.test", "x.example.test"])
    assert set(challenges_used(certbot).values()) == {"dns-01"}
