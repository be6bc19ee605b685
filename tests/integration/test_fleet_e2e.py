"""Fleet end to end: PostgreSQL store, real certbot + pebble + BIND, three nginx "servers".

* srv1: nginx with fullchain + key;
* srv2: a combined PEM (fullchain + key in one file), as haproxy wants it;
* srv3: cert + CA file + key, as an LDAP server (slapd) wants them.

Each server has its own config, key dir and nginx, and runs `fleet pull` as its own
process; the central host runs `fleet renew` with the real certbot -a safedeploy.
The tests run in file order and share one fleet.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.fleet.issued import IssuedCertificate
from certbot_safedeploy.fleet.settings import settings_from_table
from certbot_safedeploy.fleet.store import Store
from tests.pki import make_cert

from .conftest import AcmeBed
from .postgres import Postgres
from .servers import Nginx, free_port

LAYOUTS = {
    "srv1": ([("site.crt", ["fullchain"]), ("site.key", ["privkey"])],
             "site.crt", "site.key", ""),
    "srv2": ([("haproxy.pem", ["fullchain", "privkey"])], "haproxy.pem", "haproxy.pem", ""),
    "srv3": ([("cert.pem", ["cert"]), ("ca.pem", ["chain"]), ("key.pem", ["privkey"])],
             "cert.pem", "key.pem", "ssl_trusted_certificate {dir}/ca.pem;"),
}
KEY_TYPES = {"srv1": "ec", "srv2": "rsa", "srv3": "ec"}


@dataclasses.dataclass
class Server:
    name: str
    base: Path
    config: Path
    nginx: Nginx
    port: int

    @property
    def domain(self) -> str:
        return f"{self.name}.example.test"

    @property
    def tls(self) -> Path:
        return self.base / "tls"

    def served_serial(self) -> str:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=self.domain) as conn:
                der = conn.getpeercert(binary_form=True)
        return format(x509.load_der_x509_certificate(der).serial_number, "x")

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted(self.tls.iterdir()) if p.is_file()}


@dataclasses.dataclass
class Fleet:
    pg: Postgres
    central: Path
    servers: dict[str, Server]
    password_file: Path

    def run(self, config: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", *args, "--config", str(config)],
                              capture_output=True, text=True, timeout=600)

    def renew(self, *args: str) -> subprocess.CompletedProcess[str]:
        r = self.run(self.central, "renew", *args)
        assert r.returncode == 0, r.stdout + r.stderr
        return r

    def pull(self, server: str) -> subprocess.CompletedProcess[str]:
        return self.run(self.servers[server].config, "pull")

    def store(self) -> Store:
        return Store.open(settings_from_table({"store": self.pg.url, "store_password_file": str(self.password_file),
                                               "server": "test"}, "/nonexistent"))

    def published(self) -> dict[str, str]:
        store = self.store()
        try:
            return {r["name"]: r["serial"] for r in store.status_rows()}
        finally:
            store.close()

    def status(self) -> tuple[int, list[dict]]:
        r = self.run(self.central, "status", "--json")
        return r.returncode, json.loads(r.stdout)


def _fleet_table(pg: Postgres, password_file: Path, server: str, key_dir: Path, certbot: list[str] | None) -> str:
    lines = ["[fleet]", f'store = "{pg.url}"', f'store_password_file = "{password_file}"',
             f'server = "{server}"', f'key_dir = "{key_dir}"']
    if certbot:
        lines.append(f"certbot = {json.dumps(certbot)}")
    return "\n".join(lines) + "\n"


def _server(base: Path, name: str, pg: Postgres, password_file: Path, roots: Path) -> Server:
    tls = base / "tls"
    tls.mkdir(parents=True)
    files, cert_file, key_file, extra = LAYOUTS[name]
    boot = make_cert(f"{name}.example.test", sans=[f"{name}.example.test"])  # what it served before the fleet
    parts = {"cert": boot.pem, "chain": boot.pem, "fullchain": boot.pem, "privkey": boot.key_pem}
    for file, content in files:
        path = tls / file
        path.write_bytes(b"".join(parts[c] for c in content))
        os.chmod(path, 0o600)
    port = free_port()
    nginx = Nginx(base / "nginx", tls_port=port, cert=tls / cert_file, key=tls / key_file,
                  extra_tls=extra.format(dir=tls)).start()
    entries = ", ".join(f'{{ path = "{tls / f}", content = {json.dumps(c)} }}' for f, c in files)
    config = base / "safedeploy.toml"
    config.write_text(f"""\
trust_anchors = ["{roots}"]
state_dir = "{base / 'state'}"
{_fleet_table(pg, password_file, name, base / 'keys', None)}
[[target]]
name = "{name}-tls"
lineage = "{name}"
files = [ {entries} ]
check = {json.dumps(nginx.check_argv())}
reload = {json.dumps(nginx.reload_argv())}
probe = {{ connect = "127.0.0.1:{port}", servername = "{name}.example.test", timeout = 10 }}
""")
    os.chmod(config, 0o600)
    return Server(name, base, config, nginx, port)


@pytest.fixture(scope="module")
def fleet(acme: AcmeBed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    base = tmp_path_factory.mktemp("fleet")
    pg = Postgres().start()
    pg.create_fleet_db()
    password_file = base / "db.password"
    password_file.write_text(pg.password + "\n")
    os.chmod(password_file, 0o600)
    roots = acme.pebble.issuing_roots()
    cb = base / "central" / "certbot"
    certbot = ["env", f"REQUESTS_CA_BUNDLE={acme.pebble.listener_ca}", str(Path(sys.executable).parent / "certbot"),
               "--server", acme.pebble.directory_url, "--config-dir", str(cb / "config"),
               "--work-dir", str(cb / "work"), "--logs-dir", str(cb / "logs"), "--agree-tos",
               "--register-unsafely-without-email", *acme.plugin_args()]
    central = base / "central" / "safedeploy.toml"
    central.parent.mkdir()
    central.write_text(f'state_dir = "{base / "central" / "state"}"\n'
                       + _fleet_table(pg, password_file, "central", base / "central" / "keys", certbot))
    os.chmod(central, 0o600)
    servers = {n: _server(base / n, n, pg, password_file, roots) for n in LAYOUTS}
    yield Fleet(pg, central, servers, password_file)
    for s in servers.values():
        s.nginx.stop()
    pg.remove()


def test_enroll_renew_pull_serve_on_three_servers(fleet: Fleet) -> None:
    for name, server in fleet.servers.items():
        r = fleet.run(server.config, "enroll", name, "-d", server.domain, "--key-type", KEY_TYPES[name])
        assert r.returncode == 0, r.stderr
        assert "pin-sha256: sha256/" in r.stdout
        key = server.base / "keys" / name / "privkey.pem"
        assert key.stat().st_mode & 0o777 == 0o600
    r = fleet.renew()
    assert r.stdout.count("issued and published") == 3, r.stdout
    published = fleet.published()
    for name, server in fleet.servers.items():
        r = fleet.pull(name)
        assert r.returncode == 0, r.stdout + r.stderr
        assert server.served_serial() == published[name]
        key = serialization.load_pem_private_key((server.base / "keys" / name / "privkey.pem").read_bytes(), None)
        assert key.key_size == (2048 if KEY_TYPES[name] == "rsa" else 256)  # type: ignore[union-attr]
    assert (fleet.servers["srv2"].tls / "haproxy.pem").read_bytes().count(b"-----BEGIN") == 3
    assert (fleet.servers["srv3"].tls / "cert.pem").read_bytes().count(b"-----BEGIN") == 1
    code, rows = fleet.status()
    assert code == 0 and [r["state"] for r in rows] == ["ok"] * 3
    assert all(r["served_serial"] == published[r["name"]] for r in rows)


def test_forced_renewal_is_stale_until_pulled_then_served_everywhere(fleet: Fleet) -> None:
    before = fleet.published()
    fleet.renew("srv1", "srv2", "srv3", "--force")
    after = fleet.published()
    assert all(after[n] != before[n] for n in after)
    code, rows = fleet.status()
    assert code == 1 and all(r["state"] == "stale" for r in rows)
    table = fleet.run(fleet.central, "status")
    assert table.returncode == 1 and table.stdout.count("!! STALE: serves") == 3
    for name, server in fleet.servers.items():
        assert fleet.pull(name).returncode == 0
        assert server.served_serial() == after[name]
    code, rows = fleet.status()
    assert code == 0 and all(r["served_serial"] == after[r["name"]] for r in rows)


def test_store_outage_during_pull_changes_nothing(fleet: Fleet) -> None:
    srv1 = fleet.servers["srv1"]
    served, files = srv1.served_serial(), srv1.files()
    fleet.renew("srv1", "--force")
    fleet.pg.stop()
    try:
        r = fleet.pull("srv1")
        assert r.returncode == 1 and "unreachable" in r.stderr, r.stdout + r.stderr
        assert fleet.pg.password not in r.stdout + r.stderr
        assert srv1.files() == files and srv1.served_serial() == served
    finally:
        fleet.pg.start()
    assert fleet.pull("srv1").returncode == 0
    assert srv1.served_serial() == fleet.published()["srv1"] != served


def test_a_corrupt_certificate_row_is_refused_on_every_server(fleet: Fleet) -> None:
    saved = fleet.pg.psql("SELECT name || '|' || serial || '|' || cert_pem FROM certificates", db="fleet")
    assert saved
    fleet.pg.psql("UPDATE certificates SET serial = serial || '00', "
                  "cert_pem = left(cert_pem, 300) || E'\\n-----END CERTIFICATE-----\\n'", db="fleet")
    for name, server in fleet.servers.items():
        files, served = server.files(), server.served_serial()
        r = fleet.pull(name)
        assert r.returncode == 1 and "refused" in r.stderr, r.stdout + r.stderr
        assert server.files() == files and server.served_serial() == served
    code, rows = fleet.status()
    assert code == 1 and all(r["outcome"] == "refused" and r["state"] == "stale" for r in rows)
    fleet.renew("srv1", "srv2", "srv3", "--force")  # the central host repairs the rows by re-issuing
    for name in fleet.servers:
        assert fleet.pull(name).returncode == 0
    assert fleet.status()[0] == 0


def test_a_failing_reload_rolls_back_reports_and_shows_stale(fleet: Fleet) -> None:
    srv2 = fleet.servers["srv2"]
    flag = srv2.base / "fail-next-reload"
    reload = ["/bin/sh", "-c", f'if rm "{flag}" 2>/dev/null; then exit 1; fi; exec "$0" "$@"',
              *srv2.nginx.reload_argv()]
    text = srv2.config.read_text()
    srv2.config.write_text(text.replace(f"reload = {json.dumps(srv2.nginx.reload_argv())}",
                                        f"reload = {json.dumps(reload)}"))
    served, files = srv2.served_serial(), srv2.files()
    fleet.renew("srv2", "--force")
    flag.touch()
    r = fleet.pull("srv2")
    assert r.returncode == 3, r.stdout + r.stderr
    assert "rolled back" in r.stderr
    assert srv2.served_serial() == served and srv2.files() == files
    code, rows = fleet.status()
    row = next(x for x in rows if x["name"] == "srv2")
    assert code == 1 and row["state"] == "stale" and row["outcome"] == "rolled back"
    assert row["served_serial"] == served and row["serial"] != served
    assert fleet.pull("srv2").returncode == 0  # the next timer run retries and succeeds
    assert srv2.served_serial() == fleet.published()["srv2"]


def test_two_pullers_at_once_on_one_server_deploy_once(fleet: Fleet) -> None:
    fleet.renew("srv3", "--force")
    results: list[subprocess.CompletedProcess[str]] = []
    threads = [threading.Thread(target=lambda: results.append(fleet.pull("srv3"))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.returncode for r in results] == [0, 0]
    text = "".join(r.stdout + r.stderr for r in results)
    assert text.count("deployed srv3") == 1 and text.count("is installed") == 1
    assert fleet.servers["srv3"].served_serial() == fleet.published()["srv3"]


def test_postgresql_readers_never_see_a_half_published_row(fleet: Fleet) -> None:
    store = fleet.store()
    rows = {r["name"]: r for r in store.status_rows()}
    stop, bad, seen = threading.Event(), [], set()

    def reader() -> None:
        s = fleet.store()
        while not stop.is_set():
            p = s.checkin("srv1", ["srv1"], 1)["srv1"]
            seen.add(p.serial)
            if p.cert_pem != f"CERT {p.serial}" and p.serial != rows["srv1"]["serial"]:
                bad.append(p.serial)
        s.close()

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    pin = fleet.pg.psql("SELECT csr_pin FROM certificates WHERE name = 'srv1'", db="fleet").strip()
    for i in range(100):
        store.publish("srv1", pin, IssuedCertificate(f"CERT s{i}", "CHAIN", f"s{i}", 0, 2, pin), 1)
    stop.set()
    for t in threads:
        t.join()
    store.close()
    assert not bad and len(seen) > 2
