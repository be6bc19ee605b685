"""Issue 20: a compromised server, with its own PostgreSQL role, can neither stall, starve nor mislead the others.

Real PostgreSQL 15 (loopback), the project's migrations, `fleet grant` roles and the
project's own commands; the CA is tests/fleet/fake_certbot.py (the real certbot and
pebble run in test_fleet_e2e.py).  Server "srvb" is the attacker; "srva" (and "srvc")
must go on renewing, pulling and reading their own rows.  The central config sets
lock_timeout = 2, so every central command finishes, or fails in one line, quickly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization

from certbot_safedeploy.config.fleet_section import settings_from_table
from certbot_safedeploy.fleet.db import migrations
from certbot_safedeploy.fleet.db.store import Store
from certbot_safedeploy.fleet.db.wire import DirectStore, ServerReport
from certbot_safedeploy.fleet.rules import csr
from tests.fleet import hostile_csr
from tests.pki import Pki

from .postgres import Postgres

FAKE_CERTBOT = str(Path(__file__).parents[1] / "fleet" / "fake_certbot.py")
SERVERS = ("srva", "srvb", "srvc")
LOCK_TIMEOUT = 2


@dataclasses.dataclass
class Bed:
    pg: Postgres
    base: Path
    ca: Path
    central: Path
    notified: Path

    def password(self, server: str) -> str:
        return (self.base / server / "db.password").read_text().strip()

    def cfg(self, server: str) -> Path:
        return self.base / server / "safedeploy.toml"

    def run(self, config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "certbot_safedeploy", "fleet", *args, "--config", str(config)],
                              capture_output=True, text=True, timeout=timeout)

    def central_run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run(self.central, *args, timeout=timeout)

    def as_role(self, server: str, **kw: object) -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.pg.port, dbname="fleet", user=server,
                               password=self.password(server), autocommit=True, **kw)  # type: ignore[arg-type]

    def sql(self, text: str) -> str:
        return self.pg.psql(text, db="fleet").strip()

    def store(self) -> Store:
        return Store.open(settings_from_table({"store": self.pg.url, "store_password_file":
                                               str(self.base / "central.password"), "server": "central"}, "/x"))

    def central_config(self, extra: str = "") -> None:
        text = self.central.read_text().split("# extra\n")[0]
        self.central.write_text(text + "# extra\n" + extra)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path


@pytest.fixture(scope="module")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    base = tmp_path_factory.mktemp("hostile")
    pg = Postgres().start()
    pg.create_fleet_db()
    pki = Pki.create("Hostile")
    ca = base / "ca"
    ca.mkdir()
    (ca / "inter.pem").write_bytes(pki.intermediate.pem)
    (ca / "inter.key").write_bytes(pki.intermediate.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    roots = base / "roots.pem"
    roots.write_bytes(pki.root.pem)
    password = _write(base / "central.password", pg.password)
    notified = base / "notified.jsonl"
    central = _write(base / "central" / "safedeploy.toml", f"""\
state_dir = "{base / 'central' / 'state'}"
[notify]
command = ["/bin/sh", "-c", "cat >> {notified}; echo >> {notified}"]
[fleet]
store = "{pg.url}"
store_password_file = "{password}"
server = "central"
certbot = ["{sys.executable}", "{FAKE_CERTBOT}", "{ca}"]
lock_timeout = {LOCK_TIMEOUT}
max_enrollments_per_server = 20
# extra
""")
    b = Bed(pg, base, ca, central, notified)
    assert b.central_run("migrate").returncode == 0
    for server in SERVERS:
        secret = _write(base / server / "db.password", os.urandom(18).hex())
        r = b.central_run("grant", server, "--password-file", str(secret))
        assert r.returncode == 0, r.stderr
        assert b.central_run("allow", server, "-d", f"{server}.example.test").returncode == 0
        _write(b.cfg(server), f"""\
trust_anchors = ["{roots}"]
state_dir = "{base / server / 'state'}"
[fleet]
store = "{pg.url_for(server)}"
store_password_file = "{secret}"
server = "{server}"
[[target]]
name = "{server}-files"
lineage = "{server}"
files = [ {{ path = "{base / server / 'tls.pem'}", content = ["fullchain", "privkey"] }} ]
""")
        r = b.run(b.cfg(server), "enroll", server, "-d", f"{server}.example.test")
        assert r.returncode == 0, r.stderr
    r = b.central_run("renew")
    assert r.returncode == 0 and r.stdout.count("issued and published") == 3, r.stdout + r.stderr
    for server in SERVERS:
        assert b.run(b.cfg(server), "pull").returncode == 0
    yield b
    pg.remove()


def _serial(bed: Bed, name: str) -> str:
    return bed.sql(f"SELECT serial FROM certificates WHERE name = '{name}'")


def _a_renews_and_pulls(bed: Bed, max_seconds: float = 20) -> subprocess.CompletedProcess[str]:
    """srva's renewal is issued and srva's pull installs it, within ``max_seconds``."""
    before = _serial(bed, "srva")
    start = time.monotonic()
    assert bed.central_run("renew", "srva", "--force").returncode in (0, 1)
    r = bed.central_run("renew")
    assert _serial(bed, "srva") != before, r.stdout + r.stderr
    pull = bed.run(bed.cfg("srva"), "pull")
    assert pull.returncode == 0 and "deployed srva" in pull.stdout, pull.stdout + pull.stderr
    assert time.monotonic() - start < max_seconds
    return r


def _one_line(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_the_migration_lock_is_one_a_server_cannot_take(bed: Bed) -> None:
    with bed.as_role("srvb") as b:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            with b.transaction():
                b.execute("LOCK TABLE safedeploy_schema IN EXCLUSIVE MODE")
        for table in ("enrollments", "server_reports", "certificates", "allowed_names", "safedeploy_limits"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with b.transaction():
                    b.execute(f"LOCK TABLE {table} IN SHARE MODE")
        b.execute("SELECT pg_advisory_lock(%s)", (migrations.MIGRATION_KEY,))  # the old lock: held forever
        with b.transaction():
            b.execute("SELECT * FROM safedeploy_schema")  # ACCESS SHARE, held while B idles in the transaction
            start = time.monotonic()
            for args in (("migrate",), ("allow", "srva", "-d", "www.srva.example.test"), ("status",)):
                r = bed.central_run(*args, timeout=30)
                assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
            r = bed.run(bed.cfg("srva"), "enroll", "srva", "-d", "srva.example.test")
            assert r.returncode == 0, r.stderr
            _a_renews_and_pulls(bed)
            assert time.monotonic() - start < 30


def test_a_v3_store_upgrades_while_a_server_holds_locks_or_fails_in_one_line(bed: Bed) -> None:
    bed.pg.psql("CREATE DATABASE upgrade OWNER fleet")
    url = bed.pg.url.rsplit("/", 1)[0] + "/upgrade"
    store = Store.open(settings_from_table({"store": url, "store_password_file": str(bed.base / "central.password"),
                                            "lock_timeout": LOCK_TIMEOUT}, "/x"))
    try:
        migrations.upgrade(store.engine, target=3)
        bed.pg.psql("INSERT INTO allowed_names VALUES ('srvb', 'old.example', 1);"
                    "INSERT INTO enrollments (name, server, domains, key_type, csr_pem, csr_pin, enrolled_at) "
                    "VALUES ('old', 'srvb', '[\"old.example\"]', 'ec', 'C', 'P', 7)", db="upgrade")
        bed.pg.psql("ALTER ROLE srvc CONNECTION LIMIT -1; ALTER ROLE srvc RESET ALL")  # a role made by a v3 grant
        with psycopg.connect(host="127.0.0.1", port=bed.pg.port, dbname="upgrade", user="srvb",
                             password=bed.password("srvb"), autocommit=True) as b:
            b.execute("SELECT pg_advisory_lock(%s)", (migrations.MIGRATION_KEY,))
            with b.transaction():
                b.execute("SELECT 1 FROM enrollments")  # blocks ALTER TABLE enrollments: one line, in time
                start = time.monotonic()
                with pytest.raises(Exception) as info:
                    store.migrate()
                assert "did not answer in time" in str(info.value) and time.monotonic() - start < LOCK_TIMEOUT + 5
                assert len(str(info.value).splitlines()) == 1
            assert store.migrate() == (3, migrations.LATEST)  # B idles outside a transaction: it goes through
        assert bed.pg.psql("SELECT enrolled_at FROM enrollments", db="upgrade").strip() == "7"  # kept
        assert bed.pg.psql("SELECT rolconnlimit, rolconfig FROM pg_roles WHERE rolname = 'srvc'").strip() == (
            "4|{statement_timeout=30s,idle_in_transaction_session_timeout=30s,lock_timeout=10s}")
        triggers = bed.pg.psql("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'safedeploy_%'", db="upgrade")
        assert triggers.strip() == "2"
    finally:
        store.close()


def test_row_locks_held_by_a_server_are_skipped_not_waited_on(bed: Bed) -> None:
    with bed.as_role("srvb") as b:
        with b.transaction():
            b.execute("SELECT * FROM enrollments WHERE server = 'srvb' FOR UPDATE")
            b.execute("UPDATE server_reports SET detail = 'locked' WHERE server = 'srvb'")
            start = time.monotonic()
            r = _a_renews_and_pulls(bed)
            assert r.returncode == 1 and "srvb: SKIPPED the enrollment of server 'srvb'" in r.stderr, r.stderr
            r = bed.central_run("status")
            assert "srva" in r.stdout
            r = bed.central_run("forget", "srvb", timeout=30)  # needs B's rows: fails in one line, in time
            assert r.returncode == 1 and "did not answer in time" in r.stderr
            _one_line(r)
            assert time.monotonic() - start < 25
    assert bed.central_run("renew").returncode == 0  # B let go: judged again


def test_a_server_cannot_open_more_connections_than_its_limit(bed: Bed) -> None:
    held = [bed.as_role("srvb") for _ in range(4)]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            bed.as_role("srvb")
        _a_renews_and_pulls(bed)
        assert bed.run(bed.cfg("srvc"), "pull").returncode == 0
    finally:
        for conn in held:
            conn.close()


def _enroll_sql(b: psycopg.Connection, name: str, domains: list[str], pem: str | None = None,
                pin: str | None = None) -> None:
    key = csr.generate_key("ec")
    b.execute("INSERT INTO enrollments (name, server, domains, key_type, csr_pem, csr_pin) "
              "VALUES (%s, 'srvb', %s, 'ec', %s, %s)",
              (name, json.dumps(domains), pem or csr.build_csr(key, tuple(domains)).decode(), pin or csr.key_pin(key)))


def test_a_flood_of_enrollments_stops_at_the_limit_and_defers_only_its_own_names(bed: Bed) -> None:
    flood = [f"f{i:02d}.srvb.example.test" for i in range(25)]
    assert bed.central_run("allow", "srvb", *[a for d in flood for a in ("-d", d)]).returncode == 0
    with bed.as_role("srvb") as b:
        for i, domain in enumerate(flood):
            try:
                _enroll_sql(b, f"a-flood{i:02d}", [domain])  # sorts before every other name
            except psycopg.errors.CheckViolation as exc:
                assert "max_enrollments_per_server" in str(exc)
                break
        assert b.execute("SELECT count(*) FROM enrollments").fetchone() == (20,)
        with pytest.raises(psycopg.errors.CheckViolation, match="max_csr_bytes"):
            b.execute("UPDATE enrollments SET csr_pem = repeat('A', 20000) WHERE name = 'a-flood00'")
        with pytest.raises(psycopg.errors.CheckViolation, match="max_report_bytes"):
            b.execute("UPDATE server_reports SET detail = repeat('A', 5000) WHERE server = 'srvb'")
    bed.sql("DELETE FROM attempts")  # the earlier tests' orders
    bed.central_config("max_orders_per_3h = 3\n")  # three orders in this run: srva's is one of them
    try:
        before = _serial(bed, "srva")
        bed.sql("UPDATE certificates SET force_renewal = true WHERE name = 'srva'")
        r = bed.central_run("renew")  # 19 of B's names due (they sort first), A's one: 3 orders
        assert _serial(bed, "srva") != before, r.stdout + r.stderr
        assert r.stdout.count("orders in 3 h reached") == 17 and "srva: due" not in r.stdout, r.stdout
        assert bed.run(bed.cfg("srva"), "pull").returncode == 0
    finally:
        bed.central_config()
        bed.sql("DELETE FROM attempts; DELETE FROM enrollments WHERE name LIKE 'a-flood%'; "
                "DELETE FROM certificates WHERE name LIKE 'a-flood%'")


def test_a_server_cannot_write_enrollment_times_and_the_first_enrollment_wins(bed: Bed) -> None:
    for s in ("srva", "srvb"):
        assert bed.central_run("allow", s, "-d", "shared.example.test").returncode == 0
    with bed.as_role("srvb") as b:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            b.execute("UPDATE enrollments SET enrolled_at = 0 WHERE server = 'srvb'")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            b.execute("INSERT INTO enrollments (name, server, domains, key_type, csr_pem, csr_pin, enrolled_at) "
                      "VALUES ('shared', 'srvb', '[\"shared.example.test\"]', 'ec', 'x', 'x', 0)")
    a_cfg = bed.cfg("srva")
    r = bed.run(a_cfg, "enroll", "shared", "-d", "shared.example.test")
    assert r.returncode == 0, r.stderr
    time.sleep(1.1)
    with bed.as_role("srvb") as b:
        _enroll_sql(b, "shared", ["shared.example.test"])
        b.execute("UPDATE enrollments SET takeover = true WHERE name = 'shared'")  # a new request: a new time
        times = bed.sql("SELECT server || '=' || enrolled_at FROM enrollments WHERE name = 'shared' ORDER BY 1")
        a_time, b_time = (int(t.split("=")[1]) for t in times.splitlines())
        assert 0 < a_time < b_time <= time.time() + 1
    r = bed.central_run("renew")
    assert "shared: accepted the enrollment of server 'srva'" in r.stdout, r.stdout + r.stderr
    with bed.as_role("srvb") as b:
        (refusal,) = b.execute("SELECT refusal FROM enrollments WHERE name = 'shared'").fetchone()  # type: ignore
    assert refusal == "takeover awaits the central host's approval" and "srva" not in refusal
    assert "fleet approve shared --to srvb" in r.stderr  # the central host sees the detail
    bed.sql("DELETE FROM enrollments WHERE name = 'shared'; DELETE FROM certificates WHERE name = 'shared'")
    shutil.rmtree(bed.base / "srva" / "state" / "fleet" / "shared")


def test_racing_takeovers_go_to_the_server_the_central_host_named(bed: Bed) -> None:
    for s in ("srvb", "srvc"):
        assert bed.central_run("allow", s, "-d", "srva.example.test").returncode == 0
    threads = [threading.Thread(target=bed.run, args=(bed.cfg(s), "enroll", "srva", "-d", "srva.example.test",
                                                      "--takeover")) for s in ("srvb", "srvc")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bed.central_run("disallow", "srva", "-d", "srva.example.test").returncode == 0  # approves nobody
    r = bed.central_run("renew")
    assert bed.sql("SELECT server FROM certificates WHERE name = 'srva'") == "srva", r.stdout
    r = bed.central_run("disallow", "srva", "-d", "srva.example.test", "--to", "srvc")
    assert "approved the takeover of srva by server 'srvc'" in r.stdout, r.stdout + r.stderr
    r = bed.central_run("renew")
    assert "srva: moved from server 'srva' to 'srvc' (takeover approved)" in r.stdout, r.stdout + r.stderr
    assert bed.sql("SELECT server FROM certificates WHERE name = 'srva'") == "srvc"
    with bed.as_role("srvb") as b:
        (refusal,) = b.execute("SELECT refusal FROM enrollments WHERE name = 'srva'").fetchone()  # type: ignore
    assert "srvc" not in refusal and "srva" not in refusal
    # give the name back to srva for the tests that follow
    bed.sql("DELETE FROM enrollments WHERE name = 'srva' AND server <> 'srvc'")
    bed.central_run("allow", "srva", "-d", "srva.example.test")
    bed.sql("DELETE FROM certificates WHERE name = 'srva'; DELETE FROM enrollments WHERE name = 'srva'")
    assert bed.run(bed.cfg("srva"), "enroll", "srva", "-d", "srva.example.test").returncode == 0
    bed.central_run("disallow", "srvb", "-d", "srva.example.test")
    bed.central_run("disallow", "srvc", "-d", "srva.example.test")
    assert bed.central_run("renew").returncode == 0
    assert bed.run(bed.cfg("srva"), "pull").returncode == 0


def test_a_hidden_extension_request_and_a_ca_that_adds_names_never_reach_a_server(bed: Bed) -> None:
    key = serialization.load_pem_private_key((bed.base / "srvb/state/fleet/srvb/privkey.pem").read_bytes(), None)
    hostile = hostile_csr.two_extension_requests(key, ["srvb.example.test"], ["srva.example.test"])
    log_before = (bed.ca / "log").read_text()
    with bed.as_role("srvb") as b:
        b.execute("UPDATE enrollments SET csr_pem = %s WHERE name = 'srvb'", (hostile,))
    r = bed.central_run("renew", "srvb", "--force")
    assert r.returncode == 1 and "2 extension requests" in r.stderr, r.stdout + r.stderr
    assert (bed.ca / "log").read_text() == log_before  # never sent to the CA
    assert bed.run(bed.cfg("srvb"), "enroll", "srvb", "-d", "srvb.example.test").returncode == 0  # repaired
    served = _serial(bed, "srvb")
    (bed.ca / "names").write_text("srvb.example.test srva.example.test")
    try:
        r = bed.central_run("renew", "srvb", "--force")
        assert r.returncode == 1 and "not asked for srva.example.test" in r.stderr, r.stderr
        assert _serial(bed, "srvb") == served
    finally:
        (bed.ca / "names").unlink()
    bed.sql("UPDATE certificates SET consecutive_failures = 0, next_attempt_at = NULL WHERE name = 'srvb'")
    _a_renews_and_pulls(bed)


def test_escape_sequences_and_nul_in_reports_cannot_rewrite_the_central_terminal(bed: Bed) -> None:
    forged = "deployed\r\x1b[1A\x1b[2Ksrva  srva  -  ok\x1b]0;owned\x07"
    with bed.as_role("srvb") as b:
        b.execute("UPDATE server_reports SET outcome = left(%s, 32), detail = %s, served_serial = left(%s, 64) "
                  "WHERE server = 'srvb'", (forged, forged, forged))
        with pytest.raises(psycopg.Error):
            b.execute("UPDATE server_reports SET detail = E'a\\\\000b' WHERE server = 'srvb'".replace("\\\\", "\\"))
    direct = DirectStore(settings_from_table({"store": bed.pg.url_for("srvb"), "server": "srvb",
                                              "store_password_file": str(bed.base / "srvb/db.password")}, "/x"))
    try:
        direct.report("srvb", [ServerReport("srvb", "deployed", None, "ab\x00cd", "nul\x00here")], int(time.time()))
    finally:
        direct.close()
    assert bed.sql("SELECT served_serial FROM server_reports WHERE server = 'srvb'") == "ab\\x00cd"
    with bed.as_role("srvb") as b:
        b.execute("UPDATE server_reports SET served_serial = left(%s, 64) WHERE server = 'srvb'", (forged,))
    r = bed.central_run("status")
    assert not any(c in r.stdout for c in "\x1b\r\x07\x00") and "\\x1b[1A" in r.stdout
    lines = {line.split()[0]: line for line in r.stdout.splitlines()[1:-1]}
    assert lines["srva"].split()[1] == "srva" and "\\x1b" not in lines["srva"]
    rows = json.loads(bed.central_run("status", "--json").stdout)
    assert next(x for x in rows if x["name"] == "srvb")["served_serial"] == forged[:64]
    with bed.as_role("srvb") as b:
        b.execute("UPDATE server_reports SET outcome = 'deployed', detail = '', served_serial = NULL "
                  "WHERE server = 'srvb'")


def test_a_key_change_with_a_stolen_credential_is_notified_and_waits_for_approval(bed: Bed) -> None:
    bed.central_config("approve_key_changes = true\n")
    try:
        old_pin = bed.sql("SELECT csr_pin FROM certificates WHERE name = 'srvb'")
        served = _serial(bed, "srvb")
        thief = csr.generate_key("ec")
        with bed.as_role("srvb") as b:  # the thief's key, with B's stolen password
            b.execute("UPDATE enrollments SET csr_pem = %s, csr_pin = %s WHERE name = 'srvb'",
                      (csr.build_csr(thief, ("srvb.example.test",)).decode(), csr.key_pin(thief)))
        before = bed.notified.read_text() if bed.notified.exists() else ""
        r = bed.central_run("renew")
        assert r.returncode == 1 and "awaits approval" in r.stderr and old_pin in r.stderr, r.stderr
        sent = [json.loads(x) for x in bed.notified.read_text()[len(before):].splitlines() if x.strip()]
        assert any(s.get("old_pin") == old_pin and s.get("new_pin") == csr.key_pin(thief) for s in sent), sent
        assert _serial(bed, "srvb") == served  # nothing issued for the thief
        _a_renews_and_pulls(bed)  # A is not held up
    finally:
        bed.central_config()
    assert bed.run(bed.cfg("srvb"), "enroll", "srvb", "-d", "srvb.example.test").returncode == 0  # the real B
