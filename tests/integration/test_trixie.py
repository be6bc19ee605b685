"""Debian 13 for real: trixie's own certbot, pebble, BIND and nginx, inside the trixie root.

scripts/test-trixie runs this module in the cached trixie root (scripts/trixie-root) after it has
built our .deb there and installed it with apt, together with the Dovecot 2.4 cases of
test_services.py and the fleet (test_fleet_e2e.py) on trixie's PostgreSQL 17, SQLAlchemy and
psycopg.  Elsewhere the module is skipped.  Every server runs on loopback in the private network
namespace of the integration conftest; certbot runs isolated from /etc/letsencrypt (distro.py).
"""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

import pytest

from .distro import IsolatedCertbot, issue_dns01_alone, issue_verify_deploy_renew, run_ok, timed, versions
from .distro import machine_left_as_found  # noqa: F401  (autouse fixture)
from .test_plugin_e2e import assert_issued, challenges_used, ok


def _debian_release() -> str:
    try:
        return Path("/etc/debian_version").read_text().strip()
    except OSError:
        return ""


pytestmark = pytest.mark.skipif(not _debian_release().startswith("13."),
                                reason="Debian 13 only: scripts/test-trixie runs it in the trixie root")

REPO = Path(__file__).resolve().parents[2]
PLATFORM = "trixie /usr/bin/certbot"
DIST_PACKAGES = Path("/usr/lib/python3/dist-packages")
CLI = "/usr/bin/certbot-safedeploy"
# trixie's versions (/work/shared facts, docs/install-platforms.rst)
EXPECTED = {"certbot": "4.0.0", "acme": "4.0.0", "cryptography": "43.0.0", "dnspython": "2.7.0",
            "josepy": "2.0.0", "pyOpenSSL": "25.0.0", "SQLAlchemy": "2.0.40", "psycopg": "3.2.6"}
# the servers every preset and the DNS interop tests run here, by the upstream release trixie ships
# (the issue's list: nginx 1.26, Apache 2.4.65 and later point releases, HAProxy 3.0, Postfix 3.10,
# slapd 2.6, PostgreSQL 17, BIND 9.20, Knot 3.4, PowerDNS 4.9, plus Dovecot 2.4 and unbound)
SERVER_RELEASES = {"nginx": "1.26.", "apache2": "2.4.", "haproxy": "3.0.", "postfix": "3.10.", "slapd": "2.6.",
                   "postgresql-17": "17.", "bind9": "9.20.", "knot": "3.4.", "pdns-server": "4.9.",
                   "dovecot-core": "2.4.", "unbound": "1.", "pebble": "2.6."}


@pytest.fixture
def trixie_certbot(acme, tmp_path) -> IsolatedCertbot:
    return IsolatedCertbot(tmp_path / "certbot", acme.pebble, "/usr/bin/certbot")


def test_trixie_packages_are_the_ones_in_use(capsys):
    python, seen = versions("/usr/bin/python3", [*EXPECTED, "certbot-safedeploy"])
    servers = run_ok(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *SERVER_RELEASES,
                      "python3-certbot-safedeploy"]).stdout
    with capsys.disabled():
        print(f"\n[{PLATFORM}] python {python}, " + ", ".join(f"{k} {v}" for k, v in seen.items())
              + "\n" + servers, flush=True)
    assert python.startswith("3.13.")
    installed = dict(line.split(" ", 1) for line in servers.splitlines())
    upstream = {name: installed[name].split(":", 1)[-1] for name in SERVER_RELEASES}  # without the epoch
    assert {n: v for n, v in upstream.items() if not v.startswith(SERVER_RELEASES[n])} == {}
    assert {k: seen[k] for k in EXPECTED} == EXPECTED
    module = run_ok(["/usr/bin/python3", "-c", "import certbot_safedeploy; print(certbot_safedeploy.__file__)"],
                    env={"PATH": "/usr/bin:/bin"}, cwd="/").stdout.strip()
    assert Path(module).parent == DIST_PACKAGES / "certbot_safedeploy"
    stale = [str(p.relative_to(REPO)) for p in (REPO / "certbot_safedeploy").rglob("*.py")
             if not filecmp.cmp(p, DIST_PACKAGES / p.relative_to(REPO), shallow=False)]
    assert not stale, f"the installed python3-certbot-safedeploy is not this tree's ({stale})"


def test_pebble_is_trixies(acme):
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "pebble"], capture_output=True, text=True).stdout
    assert out.startswith("2.6"), out
    assert acme.pebble.process is not None and acme.pebble.process.proc.poll() is None


def test_issue_verify_deploy_and_timer_renewal(acme, trixie_certbot, tmp_path, capsys):
    """http-01 + dns-01 with -a safedeploy, then certbot renew --no-random-sleep-on-renew from the
    timer's environment: the deploy hook installs into trixie's nginx, which serves the new serial."""
    with capsys.disabled():
        issue_verify_deploy_renew(acme, trixie_certbot, CLI, PLATFORM, tmp_path)


def test_dns01_alone_with_the_plugin(acme, trixie_certbot, capsys):
    with capsys.disabled():
        issue_dns01_alone(acme, trixie_certbot, PLATFORM)


def test_http01_alone_with_the_plugin(acme, trixie_certbot, capsys):
    domains = ["web.example.test"]
    args = acme.plugin_args(webroot_map={"web.example.test": str(acme.webroot)}, dns=False)
    with capsys.disabled():
        ok(timed("certonly -a safedeploy, http-01 (web.example.test)", PLATFORM,
                 lambda: trixie_certbot.certonly(domains, *args, "--preferred-challenges", "http")))
    assert_issued(trixie_certbot, "web.example.test", ["web.example.test"])
    assert set(challenges_used(trixie_certbot).values()) == {"http-01"}
