"""Benchmark: fleet status (1,000 names x 10 servers) and a pull with nothing new, on PostgreSQL.

    .venv/bin/python bench/fleet.py [--names 1000] [--servers 10] [--runs 7]

Everything is measured as the wall time of the whole command (process start,
imports, connection, query, output), median of N runs, against baselines
measured in the same run on the same PostgreSQL:

* status: `psql` running the same join over the same 10,000 rows;
* pull: `python -c "import sqlalchemy, psycopg"`, the floor of any process that
  reaches the store through SQLAlchemy Core.

Round trips of a pull are counted from PostgreSQL's own statement log
(log_statement=all, by application_name), not estimated.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from certbot_safedeploy.fleet.settings import settings_from_table  # noqa: E402
from certbot_safedeploy.fleet.store import Store  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402
from tests.integration.postgres import Postgres, pg_bin  # noqa: E402
from tests.pki import Pki  # noqa: E402

STATUS_SQL = ("SELECT c.name, c.server, c.serial, c.not_after, c.issued_at, c.prev_serial, c.consecutive_failures, "
              "c.last_error, c.next_attempt_at, c.cert_pin, c.csr_pin, r.server, r.last_pull_at, r.reported_at, "
              "r.outcome, r.installed_serial, r.served_serial, r.detail FROM certificates c "
              "LEFT OUTER JOIN server_reports r ON r.name = c.name ORDER BY c.name, r.server")


def wall(argv: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, int]:
    times, rc = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
        rc = proc.returncode
    return statistics.median(times), rc


def populate(store: Store, names: int, servers: int) -> None:
    import sqlalchemy as sa

    from certbot_safedeploy.fleet.schema import certificates, server_reports

    now = int(time.time())
    pem = "-----BEGIN CERTIFICATE-----\n" + ("A" * 64 + "\n") * 24 + "-----END CERTIFICATE-----\n"
    certs = [{"name": f"name{i:04d}", "domains": json.dumps([f"name{i:04d}.example.net"]), "key_type": "ec",
              "server": f"srv{i % servers:02d}", "csr_pem": pem, "csr_pin": "P", "enrolled_at": now,
              "cert_pem": pem, "chain_pem": pem, "serial": f"{i:036x}", "cert_pin": "P",
              "not_before": now - 86400, "not_after": now + 80 * 86400, "issued_at": now - 3600}
             for i in range(names)]
    reports = [{"name": f"name{i:04d}", "server": f"srv{s:02d}", "last_pull_at": now - 600,
                "reported_at": now - 600, "outcome": "deployed",
                "installed_serial": f"{i:036x}" if (i + s) % 97 else "0" * 36,  # ~1% stale
                "served_serial": f"{i:036x}" if (i + s) % 97 else "0" * 36, "detail": "deployed"}
               for i in range(names) for s in range(servers)]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(certificates), certs)
        conn.execute(sa.insert(server_reports), reports)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    enter_private_netns()
    pg = Postgres(log_statements=True).start()
    try:
        pg.create_fleet_db()
        run(pg, args)
    finally:
        pg.remove()


def run(pg: Postgres, args: argparse.Namespace) -> None:
    base = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    password = base / "db.password"
    password.write_text(pg.password)
    os.chmod(password, 0o600)
    py = sys.executable

    def config(name: str, server: str, body: str = "") -> Path:
        path = base / f"{name}.toml"
        path.write_text(f'state_dir = "{base / name}"\n{body}\n[fleet]\nstore = "{pg.url}"\n'
                        f'store_password_file = "{password}"\nserver = "{server}"\n')
        os.chmod(path, 0o600)
        return path

    central = config("central", "central")
    cli = [py, "-m", "certbot_safedeploy", "fleet"]
    subprocess.run([*cli, "migrate", "--config", str(central)], check=True, capture_output=True)
    settings = settings_from_table({"store": pg.url, "store_password_file": str(password)}, str(base))
    store = Store.open(settings)
    populate(store, args.names, args.servers)
    pairs = args.names * args.servers

    # -- status ----------------------------------------------------------------------
    status_table, rc = wall([*cli, "status", "--config", str(central)], args.runs)
    status_json, _ = wall([*cli, "status", "--json", "--config", str(central)], args.runs)
    psql_env = dict(os.environ, PGPASSWORD=pg.password)
    psql, _ = wall([pg_bin("psql"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", "fleet", "-d", "fleet",
                    "-Atq", "-c", STATUS_SQL], args.runs, env=psql_env)
    print(f"status, {args.names} names x {args.servers} servers ({pairs} rows), median of {args.runs}:")
    print(f"  fleet status (table)       {status_table * 1000:7.1f} ms   (exit {rc}: stale pairs found)")
    print(f"  fleet status --json        {status_json * 1000:7.1f} ms")
    print(f"  baseline psql, same join   {psql * 1000:7.1f} ms   ratio table/psql = {status_table / psql:.2f}")

    # -- pull with nothing new ---------------------------------------------------------
    pki = Pki.create("Bench")
    roots = base / "root.pem"
    roots.write_bytes(pki.root.pem)
    for n_names in (1, 10):
        server = f"puller{n_names}"
        names = [f"{server}-n{i}" for i in range(n_names)]
        targets = "".join(f'[[target]]\nname = "{n}"\nlineage = "{n}"\nfiles = [ {{ path = "{base / server / n}.pem",'
                          f' content = ["fullchain", "privkey"] }} ]\n' for n in names)
        (base / server).mkdir()
        cfg = config(server, server, f'trust_anchors = ["{roots}"]\n{targets}')
        for n in names:
            subprocess.run([*cli, "enroll", n, "-d", f"{n}.example.net", "--config", str(cfg)],
                           check=True, capture_output=True)
            key = serialization.load_pem_private_key(
                (base / server / "fleet" / n / "privkey.pem").read_bytes(), None)
            leaf = pki.leaf(f"{n}.example.net", key=key)
            from certbot_safedeploy.fleet.issued import IssuedCertificate, serial_hex
            from certbot_safedeploy.verify.pins import pin_of_certificate

            pin = pin_of_certificate(leaf.cert)
            store.publish(n, pin, IssuedCertificate(leaf.pem.decode(), pki.intermediate.pem.decode(),
                                                    serial_hex(leaf.cert), 0, 2**40, pin), int(time.time()))
        first = subprocess.run([*cli, "pull", "--config", str(cfg)], capture_output=True, text=True)
        assert first.returncode == 0 and first.stdout.count("deployed") == n_names, first.stdout + first.stderr
        log_before = pg.statement_log.read_text().count("certbot-safedeploy|LOG:")
        pull, rc = wall([*cli, "pull", "--config", str(cfg)], args.runs)
        log = pg.statement_log.read_text()
        lines = [ln for ln in log.splitlines() if ln.startswith("certbot-safedeploy|LOG:")][log_before:]
        per_pull = len(lines) / args.runs
        data = sum(1 for ln in lines if "server_reports" in ln) / args.runs
        print(f"pull with nothing new, {n_names} enrolled name(s), median of {args.runs}: "
              f"{pull * 1000:.1f} ms (exit {rc})")
        print(f"  statements per pull (PostgreSQL log): {per_pull:.0f} in all = {data:.0f} touching the store "
              f"tables + {per_pull - data:.0f} SQLAlchemy sends once per new connection (version, schema, ...)")
        if n_names == 1:
            sample = sorted({ln.split("statement: ", 1)[-1].split("execute <unnamed>: ", 1)[-1][:60]
                             for ln in lines[: int(per_pull)]})
            for s in sample:
                print(f"    {s}")
    floor, _ = wall([py, "-c", "import sqlalchemy, psycopg"], args.runs)
    bare, _ = wall([py, "-c", "pass"], args.runs)
    print(f"  baseline python -c 'import sqlalchemy, psycopg': {floor * 1000:.1f} ms; python -c pass: "
          f"{bare * 1000:.1f} ms")
    print(f"  pull (1 name) beyond the import floor: {(pull - floor) * 1000:.1f} ms")
    store.close()


if __name__ == "__main__":
    main()
