"""Malformed or hostile rows in the store: one line each from pull, renew and status, never a traceback."""

import sqlalchemy as sa

from tests.fleet.test_pull import setup_issued


def sql(fleet, *statements):
    engine = sa.create_engine(fleet.store_url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def no_traceback(r):
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr


def test_hostile_certificate_rows_are_refused_by_pull_in_one_line(fleet):
    cfg = setup_issued(fleet)
    assert fleet.cli(cfg, "pull").returncode == 0
    tls = fleet.root / "web1/tls"
    snapshot = {p.name: p.read_bytes() for p in tls.iterdir()}
    for cert, chain in (("X'00ff10'", "'x'"), ("'-----BEGIN CERTIFICATE-----' || char(10) || 'é%%' || char(10) "
                                               "|| '-----END CERTIFICATE-----'", "chain_pem"),
                        ("42", "NULL"), ("chain_pem", "cert_pem")):
        sql(fleet, f"UPDATE certificates SET serial = serial || 'f', cert_pem = {cert}, chain_pem = {chain}")
        r = fleet.cli(cfg, "pull", "--retry-now")
        no_traceback(r)
        assert r.returncode == 1 or "no certificate published" in r.stdout, r.stdout + r.stderr
        assert {p.name: p.read_bytes() for p in tls.iterdir()} == snapshot
    sql(fleet, "UPDATE enrollments SET domains = '{not json'")
    r = fleet.cli(cfg, "pull", "--retry-now")
    no_traceback(r)
    assert {p.name: p.read_bytes() for p in tls.iterdir()} == snapshot


def test_hostile_csr_rows_are_refused_by_renew_and_shown_by_status(fleet):
    cfg = fleet.server_config("web1", names=("a", "b", "c", "d"))
    fleet.allow(cfg, "web1", "a.example.com", "b.example.com", "c.example.com", "d.example.com")
    for n in "abcd":
        assert fleet.cli(cfg, "enroll", n, "-d", f"{n}.example.com").returncode == 0
    sql(fleet, "UPDATE enrollments SET csr_pem = 'garbage' WHERE name = 'a'",
        "UPDATE enrollments SET csr_pem = X'30820101' WHERE name = 'b'",
        "UPDATE enrollments SET domains = '[1, 2]' WHERE name = 'c'",
        "UPDATE enrollments SET csr_pem = replace(csr_pem, 'M', 'N') WHERE name = 'd'")
    r = fleet.cli(cfg, "renew")
    no_traceback(r)
    assert r.returncode == 1
    refused = [line for line in r.stderr.splitlines() if "REFUSED" in line]
    assert sorted(line.split(":")[0] for line in refused) == ["a", "b", "c", "d"], r.stderr
    status = fleet.cli(cfg, "status")
    no_traceback(status)
    assert status.returncode == 1 and status.stdout.count("REFUSED") == 4


def test_hostile_column_types_do_not_break_status(fleet):
    cfg = setup_issued(fleet)
    assert fleet.cli(cfg, "pull").returncode == 0
    sql(fleet, "UPDATE certificates SET not_after = 'soon', serial = 12345, consecutive_failures = 'x'",
        "UPDATE server_reports SET last_pull_at = X'00', served_serial = 7")
    for args in (("status",), ("status", "--json")):
        r = fleet.cli(cfg, *args)
        no_traceback(r)
        assert r.returncode == 1
