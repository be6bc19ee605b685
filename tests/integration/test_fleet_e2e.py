"""Fleet end to end: PostgreSQL store, real certbot + pebble + BIND, three "servers".

* srv1: nginx with fullchain + key;
* srv2: nginx with a combined PEM (fullchain + key in one file), as haproxy wants it;
* srv3: slapd with cert + CA file + key (it sends the intermediate from the CA file),
  probed with LDAP StartTLS.

Each server has its own config, key dir, TLS service and PostgreSQL login role (made by
`fleet grant`), and runs `fleet pull` as its own process; the central host owns the
database, keeps the allow list and runs `fleet renew` with the real certbot -a safedeploy.
The tests run in file order and share one fleet.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from certbot_safedeploy.errors import FleetError
from certbot_safedeploy.fleet.rules.issued import IssuedCertificate
from certbot_safedeploy.config.fleet_section import settings_from_table
from certbot_safedeploy.fleet.db.store import Store
from certbot_safedeploy.deploy import tlsclient
from certbot_safedeploy.fleet import central
from certbot_safedeploy.fleet.db import migrations
from certbot_safedeploy.fleet.db import wire
from certbot_safedeploy.fleet.db.wire import DirectStore
from certbot_safedeploy.verify.pincheck import pin_of_public_key
from tests.pki import make_cert

from .conftest import AcmeBed
from .postgres import Postgres
from .servers import Nginx, free_port
from .services_ldap import Slapd

LAYOUTS = {
    "srv1": ([("site.crt", ["fullchain"]), ("site.key", ["privkey"])],
             "site.crt", "site.key", ""),
    "srv2": ([("haproxy.pem", ["fullchain", "privkey"])], "haproxy.pem", "haproxy.pem", ""),
    "srv3": ([("cert.pem", ["cert"]), ("ca.pem", ["chain"]), ("key.pem", ["privkey"])],
             "cert.pem", "key.pem", "slapd"),
}
KEY_TYPES = {"srv1": "ec", "srv2": "rsa", "srv3": "ec"}


@dataclasses.dataclass
class Server:
    name: str
    base: Path
    config: Path
    nginx: Any  # the TLS service: Nginx, or Slapd for srv3
    port: int
    starttls: str | None = None

    @property
    def domain(self) -> str:
        return f"{self.name}.example.test"

    @property
    def tls(self) -> Path:
        return self.base / "tls"

    def served_serial(self) -> str:
        served = tlsclient.fetch("127.0.0.1", self.port, self.domain, 5, self.starttls)
        return format(x509.load_der_x509_certificate(served.leaf).serial_number, "x")

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

    def direct(self, server: str) -> DirectStore:
        """The check-in client as ``server``'s own role."""
        base = self.servers[server].base
        return DirectStore(settings_from_table({"store": self.pg.url_for(server),
                                                "store_password_file": str(base / "db.password"),
                                                "server": server}, "/nonexistent"))

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


def _fleet_table(pg: Postgres, password_file: Path, server: str, key_dir: Path, certbot: list[str] | None,
                 role: str = "fleet") -> str:
    lines = ["[fleet]", f'store = "{pg.url_for(role)}"', f'store_password_file = "{password_file}"',
             f'server = "{server}"', f'key_dir = "{key_dir}"']
    if certbot:
        lines.append(f"certbot = {json.dumps(certbot)}")
    return "\n".join(lines) + "\n"


def _server(base: Path, name: str, pg: Postgres, roots: Path, central: Path) -> Server:
    base.mkdir(parents=True)
    password_file = base / "db.password"
    password_file.write_text(os.urandom(18).hex() + "\n")
    os.chmod(password_file, 0o600)
    grant = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", "grant", name, "--password-file",
                            str(password_file), "--config", str(central)], capture_output=True, text=True)
    assert grant.returncode == 0 and f"created login role {name!r}" in grant.stdout, grant.stdout + grant.stderr
    for domain in (f"{name}.example.test",):
        allow = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", "allow", name, "--domain", domain,
                                "--config", str(central)], capture_output=True, text=True)
        assert allow.returncode == 0, allow.stderr
    tls = base / "tls"
    tls.mkdir()
    files, cert_file, key_file, extra = LAYOUTS[name]
    boot = make_cert(f"{name}.example.test", sans=[f"{name}.example.test"])  # what it served before the fleet
    parts = {"cert": boot.pem, "chain": boot.pem, "fullchain": boot.pem, "privkey": boot.key_pem}
    for file, content in files:
        path = tls / file
        path.write_bytes(b"".join(parts[c] for c in content))
        os.chmod(path, 0o600)
    port = free_port()
    starttls = None
    if extra == "slapd":
        service: Any = Slapd(base / "slapd", port, str(tls / cert_file), str(tls / key_file), str(tls / "ca.pem")).start()
        check, reload = ["slaptest", "-u", "-F", str(service.config)], service.reload_argv(str(tls / cert_file),
                                                                                           str(tls / key_file))
        starttls = "ldap"
    else:
        service = Nginx(base / "nginx", tls_port=port, cert=tls / cert_file, key=tls / key_file).start()
        check, reload = service.check_argv(), service.reload_argv()
    probe_starttls = f', starttls = "{starttls}"' if starttls else ""
    entries = ", ".join(f'{{ path = "{tls / f}", content = {json.dumps(c)} }}' for f, c in files)
    config = base / "safedeploy.toml"
    config.write_text(f"""\
trust_anchors = ["{roots}"]
state_dir = "{base / 'state'}"
{_fleet_table(pg, password_file, name, base / 'keys', None, role=name)}
[[target]]
name = "{name}-tls"
lineage = "{name}"
files = [ {entries} ]
check = {json.dumps(check)}
reload = {json.dumps(reload)}
probe = {{ connect = "127.0.0.1:{port}", servername = "{name}.example.test", timeout = 10{probe_starttls} }}
""")
    os.chmod(config, 0o600)
    return Server(name, base, config, service, port, starttls)


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
    notified = base / "central" / "notified.jsonl"
    central.write_text(f'state_dir = "{base / "central" / "state"}"\n'
                       f'[notify]\ncommand = ["/bin/sh", "-c", "cat >> {notified}; echo >> {notified}"]\n'
                       + _fleet_table(pg, password_file, "central", base / "central" / "keys", certbot))
    os.chmod(central, 0o600)
    migrate = subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", "migrate", "--config", str(central)],
                             capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr
    servers = {n: _server(base / n, n, pg, roots, central) for n in LAYOUTS}
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
    r = fleet.pull("srv2")  # the next timer tick backs off: no second reload
    assert r.returncode == 0 and "next try in" in r.stdout and srv2.served_serial() == served, r.stdout + r.stderr
    r = fleet.run(srv2.config, "pull", "--retry-now")
    assert r.returncode == 0, r.stdout + r.stderr
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


def _as(fleet: Fleet, server: str) -> psycopg.Connection:
    password = (fleet.servers[server].base / "db.password").read_text().strip()
    return psycopg.connect(host="127.0.0.1", port=fleet.pg.port, dbname="fleet", user=server, password=password,
                           autocommit=True)


def _rejected(conn: psycopg.Connection, sql: str, *params: object) -> str:
    with pytest.raises(psycopg.Error) as info:
        conn.execute(sql, params or None)
    return str(info.value)


def test_a_server_role_cannot_touch_what_is_not_its_own(fleet: Fleet) -> None:
    """With srv2's own credentials, PostgreSQL itself refuses every write outside srv2's rows."""
    before = fleet.pg.psql("SELECT e.csr_pem || r.outcome || coalesce(r.served_serial, '') FROM enrollments e "
                           "JOIN server_reports r USING (name, server) WHERE e.server = 'srv1'", db="fleet")
    with _as(fleet, "srv2") as b:
        # A's CSR: the table grants no such write, and A's row is invisible to B
        assert "permission denied" in _rejected(b, "UPDATE certificates SET csr_pem = 'x' WHERE name = 'srv1'")
        assert b.execute("UPDATE enrollments SET csr_pem = 'x' WHERE name = 'srv1'").rowcount == 0
        assert "permission denied" in _rejected(b, "UPDATE enrollments SET server = 'srv1' WHERE server = 'srv2'")
        assert "row-level security" in _rejected(
            b, "INSERT INTO enrollments (name, server, domains, key_type, csr_pem, csr_pin, enrolled_at) "
               "VALUES ('srv1', 'srv1', '[\"srv1.example.test\"]', 'ec', 'x', 'x', 1)")
        # publishing a certificate
        assert "permission denied" in _rejected(
            b, "INSERT INTO certificates (name, domains, key_type, server, csr_pem, csr_pin, enrolled_at, cert_pem, "
               "serial) VALUES ('evil', '[]', 'ec', 'srv2', 'x', 'x', 1, 'CERT', 'ff')")
        assert "permission denied" in _rejected(b, "UPDATE certificates SET serial = 'ff' WHERE name = 'srv2'")
        # the allow list
        assert "permission denied" in _rejected(
            b, "INSERT INTO allowed_names (server, domain, added_at) VALUES ('srv2', 'srv1.example.test', 1)")
        assert "permission denied" in _rejected(b, "DELETE FROM allowed_names")
        # A's report
        assert b.execute("UPDATE server_reports SET served_serial = 'ff', outcome = 'deployed' "
                         "WHERE server = 'srv1'").rowcount == 0
        assert "row-level security" in _rejected(b, "INSERT INTO server_reports (name, server) VALUES ('srv1', 'srv1')")
        assert "permission denied" in _rejected(
            b, "INSERT INTO server_reports (name, server, outcome) VALUES ('srv2', 'srv1', 'deployed')")
        assert "permission denied" in _rejected(b, "UPDATE server_reports SET server = 'srv1' WHERE server = 'srv2'")
        assert "permission denied" in _rejected(b, "SELECT count(*) FROM attempts")
        # what B may do: read its own rows only
        names = [r[0] for r in b.execute("SELECT name FROM certificates UNION ALL SELECT name FROM enrollments "
                                         "UNION ALL SELECT name FROM server_reports")]
        assert set(names) == {"srv2"}
    after = fleet.pg.psql("SELECT e.csr_pem || r.outcome || coalesce(r.served_serial, '') FROM enrollments e "
                          "JOIN server_reports r USING (name, server) WHERE e.server = 'srv1'", db="fleet")
    assert after == before


def test_an_enrollment_for_a_name_never_allowed_is_refused_by_postgresql_and_by_renew(fleet: Fleet) -> None:
    srv2 = fleet.servers["srv2"]
    r = fleet.run(srv2.config, "enroll", "evil", "-d", "evil.example.test")
    assert r.returncode == 1 and "does not allow server 'srv2' to hold evil.example.test" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    with _as(fleet, "srv2") as b:
        assert "row-level security" in _rejected(
            b, "INSERT INTO enrollments (name, server, domains, key_type, csr_pem, csr_pin, enrolled_at) "
               "VALUES ('evil', 'srv2', '[\"evil.example.test\"]', 'ec', 'x', 'x', 1)")
        # its own row passes the policy with an allowed list, but the CSR asks for another name
        key = ec.generate_private_key(ec.SECP256R1())
        request = (x509.CertificateSigningRequestBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evil.example.test")]))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName("evil.example.test")]), critical=False)
                   .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
        assert b.execute("UPDATE enrollments SET csr_pem = %s, csr_pin = %s WHERE name = 'srv2'",
                         (request, pin_of_public_key(key.public_key()))).rowcount == 1
    notified = fleet.central.parent / "notified.jsonl"
    before = notified.read_text() if notified.exists() else ""
    r = fleet.run(fleet.central, "renew")
    assert r.returncode == 1 and "srv2: REFUSED the enrollment of server 'srv2'" in r.stderr, r.stdout + r.stderr
    assert "not allowed for server 'srv2': evil.example.test" in r.stderr and "Traceback" not in r.stderr
    assert "evil.example.test" in notified.read_text()[len(before):]
    code, rows = fleet.status()
    row = next(x for x in rows if x["name"] == "srv2")
    assert code == 1 and any("REFUSED" in p and "evil.example.test" in p for p in row["problems"])
    assert fleet.pull("srv2").returncode == 1  # the server is told too; what it serves stays
    # the server enrolls again with its own key and allowed names: accepted, nothing re-issued
    assert fleet.run(srv2.config, "enroll", "srv2", "-d", srv2.domain).returncode == 0
    r = fleet.renew()  # exit 0: the refusal is gone (an RSA CSR of the same key is the same bytes)
    assert "REFUSED" not in r.stdout + r.stderr and fleet.status()[0] == 0


def test_a_hand_swapped_certificate_shows_as_drift(fleet: Fleet) -> None:
    srv1 = fleet.servers["srv1"]
    text = srv1.config.read_text()
    srv1.config.write_text(text.replace("[fleet]\n", "[fleet]\nreprobe_minutes = 0\n"))
    files, published = srv1.files(), fleet.published()["srv1"]
    swap = make_cert(srv1.domain, sans=[srv1.domain])
    (srv1.tls / "site.crt").write_bytes(swap.pem)
    (srv1.tls / "site.key").write_bytes(swap.key_pem)
    subprocess.run(srv1.nginx.reload_argv(), check=True, capture_output=True)
    swapped = format(swap.cert.serial_number, "x")
    for _ in range(50):
        if srv1.served_serial() == swapped:
            break
    r = fleet.pull("srv1")
    assert r.returncode == 1 and f"serves serial {swapped}" in r.stderr, r.stdout + r.stderr
    code, rows = fleet.status()
    row = next(x for x in rows if x["name"] == "srv1")
    assert code == 1 and row["served_serial"] == swapped and row["state"] == "stale"
    for name, data in files.items():  # put it back; the next re-probe clears the drift
        (srv1.tls / name).write_bytes(data)
    subprocess.run(srv1.nginx.reload_argv(), check=True, capture_output=True)
    for _ in range(50):
        if srv1.served_serial() == published:
            break
    assert fleet.pull("srv1").returncode == 0
    assert fleet.status()[0] == 0
    srv1.config.write_text(text)


def test_the_pull_sql_matches_the_schema_on_postgresql(fleet: Fleet) -> None:
    """fleet/wire.py's check-in, run as srv1's role, returns the schema's columns and Core's rows."""
    from tests.fleet.db.test_wire import core_checkin

    with _as(fleet, "srv1") as a:
        cur = a.execute(wire.checkin_pg(), {"now": int(time.time()), "server": "srv1", "names": ["srv1", "srv2"]})
        assert cur.description is not None
        assert [d.name for d in cur.description] == [c for _, c in wire.CHECKIN_COLUMNS]
        raw = [tuple(r) for r in cur]
    store = fleet.store()
    try:
        with store.engine.connect() as conn:
            core = [tuple(r) for r in conn.execute(core_checkin("srv1", ["srv1", "srv2"]))]
    finally:
        store.close()
    assert raw == core and len(raw) == 1  # srv2's row is not srv1's to see


def _srv1_report(fleet: Fleet) -> tuple[Any, ...]:
    store = fleet.store()  # read as the central host
    try:
        with store.engine.connect() as conn:
            return tuple(conn.exec_driver_sql(
                "SELECT outcome, installed_serial, served_serial, detail FROM server_reports "
                "WHERE server = 'srv1' AND name = 'srv1'").one())
    finally:
        store.close()


def _direct_as(fleet: Fleet, monkeypatch: pytest.MonkeyPatch, driver: str) -> DirectStore:
    monkeypatch.setenv(wire.DRIVER_ENV, "psycopg" if driver == "psycopg" else "")
    return fleet.direct("srv1")


def test_libpq_and_psycopg_drivers_return_the_same_check_in_and_store_the_same_report(
        fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pull's default driver (libpq through ctypes) and its psycopg fallback agree, row for row,
    as srv1's own role; hostile text (quotes, backslashes, braces, NULL) survives the array literal."""
    assert wire.libpq_load() is not None  # libpq5 is installed: the fast path is the one under test
    original = _srv1_report(fleet)
    checked_in = {}
    for driver in ("libpq", "psycopg"):
        direct = _direct_as(fleet, monkeypatch, driver)
        try:
            checked_in[driver] = direct.checkin("srv1", ["srv1", "srv2", "nope"], int(time.time()))
            assert direct.driver == driver
        finally:
            direct.close()
    assert checked_in["libpq"] == checked_in["psycopg"] and list(checked_in["libpq"]) == ["srv1"]
    detail = 'it said "no" \\ {a,b} , NULL'
    for driver in ("libpq", "psycopg"):
        direct = _direct_as(fleet, monkeypatch, driver)
        try:
            direct.report("srv1", [wire.ServerReport("srv1", f"probe-{driver}", None, "ab", detail)],
                          int(time.time()))
        finally:
            direct.close()
        assert _srv1_report(fleet) == (f"probe-{driver}", None, "ab", detail)
    direct = _direct_as(fleet, monkeypatch, "libpq")
    try:
        direct.report("srv1", [wire.ServerReport("srv1", *original)], int(time.time()))  # as it was
    finally:
        direct.close()
    assert _srv1_report(fleet) == original
    bad = DirectStore(settings_from_table({"store": fleet.pg.url_for("srv1"),
                                           "store_password_file": str(fleet.password_file),
                                           "server": "srv1"}, "/nonexistent"))
    with pytest.raises(FleetError, match="unreachable or failed: .*(password|authentication)"):
        bad.checkin("srv1", ["srv1"], int(time.time()))  # the central password is not srv1's


def test_a_v2_store_upgrades_to_roles_and_the_allow_list_on_postgresql(fleet: Fleet) -> None:
    fleet.pg.psql("CREATE DATABASE upgrade OWNER fleet")
    url = fleet.pg.url.rsplit("/", 1)[0] + "/upgrade"
    store = Store.open(settings_from_table({"store": url, "store_password_file": str(fleet.password_file)},
                                           "/nonexistent"))
    try:
        migrations.upgrade(store.engine, target=2)
        fleet.pg.psql("INSERT INTO certificates (name, domains, key_type, server, csr_pem, csr_pin, enrolled_at, "
                      "serial) VALUES ('old', '[\"o.example\", \"*.o.example\"]', 'ec', 'w', 'C', 'P', 1, 'ab');"
                      "INSERT INTO server_reports (name, server, outcome) VALUES ('old', 'w', 'deployed'), "
                      "('old', 'gone', 'deployed')", db="upgrade")
        assert store.migrate() == (2, migrations.LATEST)
        assert central.allowed_list(store) == {"w": ["*.o.example", "o.example"]}
        assert [(r["server"], r["outcome"]) for r in store.status_rows()] == [("w", "deployed")]
        assert [c.state.name for c in store.candidates()] == ["old"]
        policies = fleet.pg.psql("SELECT count(*) FROM pg_policies", db="upgrade").strip()
        assert policies == fleet.pg.psql("SELECT count(*) FROM pg_policies", db="fleet").strip() == "8"
    finally:
        store.close()


def test_postgresql_readers_never_see_a_half_published_row(fleet: Fleet) -> None:
    store = fleet.store()
    rows = {r["name"]: r for r in store.status_rows()}
    stop, bad, seen = threading.Event(), [], set()

    def reader() -> None:
        s = fleet.direct("srv1")
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


def test_a_takeover_waits_for_the_central_host_on_postgresql(fleet: Fleet) -> None:
    srv3, srv1 = fleet.servers["srv3"], fleet.servers["srv1"]
    r = fleet.run(srv3.config, "enroll", "srv1", "-d", srv1.domain, "--takeover")
    assert r.returncode == 1 and "does not allow server 'srv3'" in r.stderr  # not on srv3's list yet
    assert fleet.run(fleet.central, "allow", "srv3", "-d", srv1.domain).returncode == 0
    r = fleet.run(srv3.config, "enroll", "srv1", "-d", srv1.domain, "--takeover")
    assert r.returncode == 0, r.stderr
    r = fleet.run(fleet.central, "renew", "srv1")
    assert r.returncode == 1 and "takeover from 'srv1' awaits approval" in r.stderr, r.stdout + r.stderr
    assert fleet.pg.psql("SELECT server FROM certificates WHERE name = 'srv1'", db="fleet").strip() == "srv1"
    assert fleet.run(fleet.central, "disallow", "srv1", "-d", srv1.domain).returncode == 0  # approve
    r = fleet.renew("srv1")
    assert "moved from server 'srv1' to 'srv3'" in r.stdout and "issued and published" in r.stdout, r.stdout
    owner = fleet.pg.psql("SELECT server || ' ' || cert_pin || ' ' || csr_pin FROM certificates "
                          "WHERE name = 'srv1'", db="fleet").split()
    assert owner[0] == "srv3" and owner[1] == owner[2]
    r = fleet.pull("srv1")  # the old holder is told, in one line, and keeps what it serves
    assert r.returncode == 1 and "the store has no row" in r.stderr
