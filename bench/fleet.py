"""Benchmark: the fleet on one PostgreSQL: no-change pull, status, check-in load, renew under a flood.

    .venv/bin/python bench/fleet.py [--names 1000] [--servers 10] [--runs 7] [--clients 32] [--seconds 10]
                                    [--parts pull,status,load,renew]

Everything is measured as the wall time of the whole command (process start,
imports, connection, query, output), median of N runs, against baselines
measured in the same run on the same PostgreSQL:

* pull: ``python -c pass``, ``python -c "import psycopg"`` (the floor of any
  process that reaches PostgreSQL through psycopg; the pull uses libpq through
  ctypes instead, see fleet/libpq.py) and the old floor
  ``import sqlalchemy, psycopg``; the puller logs in with its own role made by
  ``fleet grant`` (row-level security applies), statements per pull are
  counted from PostgreSQL's own log (log_statement=all, by application_name);
* status: ``psql`` running the same join over the same rows;
* load: pgbench running the real check-in statement (fleet/wire.py's text)
  as a server role against --names x --servers rows, with persistent
  connections and with a new connection (SCRAM login) per check-in (-C), as
  timer-driven pulls do; check-ins per second and p99 latency from pgbench's
  per-transaction log.  10,000 servers on a 5-minute timer need 33.3/s;
* renew: ``fleet renew`` over 1,000 names held by 100 servers (10 due, on 10
  servers) with tests/fleet/fake_certbot.py as the CA and a budget of 20
  orders, once as it is and once with one server flooding at its limit
  (``max_enrollments_per_server`` never-issued names that sort first); the
  baseline is the run without the flood, and what counts is that the other
  servers' due names are all issued in both.
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

from certbot_safedeploy.fleet import central  # noqa: E402
from certbot_safedeploy.fleet.db import wire  # noqa: E402
from certbot_safedeploy.fleet.rules.issued import IssuedCertificate, serial_hex  # noqa: E402
from certbot_safedeploy.config.fleet_section import settings_from_table  # noqa: E402
from certbot_safedeploy.fleet.db.store import Store  # noqa: E402
from certbot_safedeploy.verify.pincheck import pin_of_certificate  # noqa: E402
from tests.integration.netns import enter_private_netns  # noqa: E402
from tests.integration.postgres import Postgres, pg_bin  # noqa: E402
from tests.pki import Pki  # noqa: E402

STATUS_SQL = ("SELECT e.name, c.server, c.serial, c.not_after, c.issued_at, c.prev_serial, c.consecutive_failures, "
              "c.last_error, c.next_attempt_at, c.cert_pin, c.csr_pin, e.csr_pin, e.server, e.refusal, r.last_pull_at, "
              "r.reported_at, r.outcome, r.installed_serial, r.served_serial, r.detail FROM enrollments e "
              "LEFT OUTER JOIN certificates c ON c.name = e.name LEFT OUTER JOIN server_reports r "
              "ON r.name = e.name AND r.server = e.server ORDER BY e.name, e.server")
PEM = "-----BEGIN CERTIFICATE-----\n" + ("A" * 64 + "\n") * 24 + "-----END CERTIFICATE-----\n"


def wall(argv: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, int]:
    times, rc = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, env=env)
        times.append(time.perf_counter() - start)
        rc = proc.returncode
    return statistics.median(times), rc


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command, run in turn, so a busy machine slows all alike."""
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(runs):
        for key, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True)
            times[key].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def populate(store: Store, names: int, servers: int, *, holder: str | None = None, prefix: str = "name") -> None:
    """``names`` certificates, each enrolled by ``servers`` servers (or all held by ``holder``)."""
    import sqlalchemy as sa

    from certbot_safedeploy.fleet.db.schema import certificates, enrollments, server_reports

    now = int(time.time())
    owner = (lambda i, s: holder) if holder else (lambda i, s: f"srv{s:02d}")
    pairs = [(i, s) for i in range(names) for s in range(servers)]
    certs = [{"name": f"{prefix}{i:05d}", "domains": json.dumps([f"{prefix}{i:05d}.example.net"]), "key_type": "ec",
              "server": owner(i, i % servers), "csr_pem": PEM, "csr_pin": "P", "enrolled_at": now,
              "cert_pem": PEM, "chain_pem": PEM, "serial": f"{i:036x}", "cert_pin": "P",
              "not_before": now - 86400, "not_after": now + 80 * 86400, "issued_at": now - 3600}
             for i in range(names)]
    enrolled = [{"name": f"{prefix}{i:05d}", "server": owner(i, s), "domains": "[]", "key_type": "ec",
                 "csr_pem": PEM, "csr_pin": "P", "enrolled_at": now} for i, s in pairs]
    reports = [{"name": f"{prefix}{i:05d}", "server": owner(i, s), "last_pull_at": now - 600,
                "reported_at": now - 600, "outcome": "deployed",
                "installed_serial": f"{i:036x}" if (i + s) % 97 else "0" * 36,  # ~1% stale
                "served_serial": f"{i:036x}" if (i + s) % 97 else "0" * 36, "detail": "deployed"}
               for i, s in pairs]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(certificates), certs)
        conn.execute(sa.insert(enrollments), enrolled)
        conn.execute(sa.insert(server_reports), reports)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--names", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--parts", default="pull,status,load,renew")
    args = parser.parse_args()
    enter_private_netns()
    pg = Postgres(log_statements=True).start()
    try:
        pg.create_fleet_db()
        run(pg, args)
    finally:
        pg.remove()


class Bed:
    def __init__(self, pg: Postgres) -> None:
        self.pg, self.base, self.py = pg, Path(tempfile.mkdtemp(prefix="bench-fleet-")), sys.executable
        self.cli = [self.py, "-m", "certbot_safedeploy", "fleet"]
        self.central_password = self.secret("central", pg.password)

    def secret(self, name: str, text: str) -> Path:
        path = self.base / f"{name}.password"
        path.write_text(text)
        os.chmod(path, 0o600)
        return path

    def config(self, name: str, server: str, role: str, password: Path, body: str = "") -> Path:
        path = self.base / f"{name}.toml"
        path.write_text(f'state_dir = "{self.base / name}"\n{body}\n[fleet]\nstore = "{self.pg.url_for(role)}"\n'
                        f'store_password_file = "{password}"\nserver = "{server}"\n')
        os.chmod(path, 0o600)
        return path

    def fleet(self, *args: str) -> str:
        proc = subprocess.run([*self.cli, *args], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout


def run(pg: Postgres, args: argparse.Namespace) -> None:
    # an installed package has its bytecode compiled (pip, Debian); this checkout may not
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "certbot_safedeploy")], check=True,
                   capture_output=True)
    bed = Bed(pg)
    central_cfg = bed.config("central", "central", "fleet", bed.central_password)
    bed.fleet("migrate", "--config", str(central_cfg))
    store = Store.open(settings_from_table({"store": pg.url, "store_password_file": str(bed.central_password)},
                                           str(bed.base)))
    # the status and load parts fill one server role with --names x --servers rows: lift its enrollment limit
    store.set_limits({"enrollments": 10 ** 7})
    parts = args.parts.split(",")
    if "pull" in parts:
        bench_pull(bed, store, central_cfg, args)
    if "status" in parts:
        bench_status(bed, store, central_cfg, args)
    if "load" in parts:
        bench_load(bed, store, central_cfg, args)
    store.close()
    if "renew" in parts:
        bench_renew(bed)


def bench_pull(bed: Bed, store: Store, central_cfg: Path, args: argparse.Namespace) -> None:
    pki = Pki.create("Bench")
    roots = bed.base / "root.pem"
    roots.write_bytes(pki.root.pem)
    results = {}
    for n_names in (1, 10):
        server = f"puller{n_names}"
        names = [f"{server}-n{i}" for i in range(n_names)]
        password = bed.secret(server, os.urandom(18).hex())
        bed.fleet("grant", server, "--password-file", str(password), "--config", str(central_cfg))
        bed.fleet("allow", server, *[a for n in names for a in ("--domain", f"{n}.example.net")],
                  "--config", str(central_cfg))
        targets = "".join(f'[[target]]\nname = "{n}"\nlineage = "{n}"\nfiles = [ {{ path = '
                          f'"{bed.base / server / n}.pem", content = ["fullchain", "privkey"] }} ]\n' for n in names)
        (bed.base / server).mkdir()
        cfg = bed.config(server, server, server, password, f'trust_anchors = ["{roots}"]\n{targets}')
        for n in names:
            bed.fleet("enroll", n, "-d", f"{n}.example.net", "--config", str(cfg))
        central.accept(store, int(time.time()))
        for n in names:
            key = serialization.load_pem_private_key((bed.base / server / "fleet" / n / "privkey.pem").read_bytes(), None)
            leaf = pki.leaf(f"{n}.example.net", key=key)
            pin = pin_of_certificate(leaf.cert)
            store.publish(n, pin, IssuedCertificate(leaf.pem.decode(), pki.intermediate.pem.decode(),
                                                    serial_hex(leaf.cert), 0, 2**40, pin), int(time.time()))
        first = bed.fleet("pull", "--config", str(cfg))
        assert first.count("deployed") == n_names, first
        log_before = bed.pg.statement_log.read_text().count("certbot-safedeploy|LOG:")
        pull, rc = wall([*bed.cli, "pull", "--config", str(cfg)], 3)
        lines = [ln for ln in bed.pg.statement_log.read_text().splitlines()
                 if ln.startswith("certbot-safedeploy|LOG:")][log_before:]
        results[n_names] = (cfg, rc, len(lines) / 3, lines)
    medians = interleaved({
        "pull1": [*bed.cli, "pull", "--config", str(results[1][0])],
        "pull10": [*bed.cli, "pull", "--config", str(results[10][0])],
        "pass": [bed.py, "-c", "pass"],
        "psycopg": [bed.py, "-c", "import psycopg"],
        "sqlalchemy": [bed.py, "-c", "import sqlalchemy, psycopg"]}, args.runs)
    for n_names, (_, rc, per_pull, lines) in results.items():
        print(f"pull with nothing new, {n_names} enrolled name(s), own role, median of {args.runs}: "
              f"{medians[f'pull{n_names}'] * 1000:.1f} ms (exit {rc}); statements per pull (PostgreSQL log): "
              f"{per_pull:g}")
    print(f"    {lines[0].split('statement: ', 1)[-1].split('execute <unnamed>: ', 1)[-1][:110]}...")
    pull1, bare, driver = medians["pull1"], medians["pass"], medians["psycopg"]
    print(f"  baselines, run in turn with the pulls: python -c pass {bare * 1000:.1f} ms; python -c 'import psycopg' "
          f"{driver * 1000:.1f} ms; python -c 'import sqlalchemy, psycopg' {medians['sqlalchemy'] * 1000:.1f} ms")
    print(f"  pull (1 name) / import-psycopg floor = {pull1 / driver:.2f}; pull beyond python -c pass: "
          f"{(pull1 - bare) * 1000:.1f} ms; target <= 300 ms: {'met' if pull1 <= 0.3 else 'MISSED'}")
    settings = settings_from_table({"store": bed.pg.url_for("puller1"), "server": "puller1",
                                    "store_password_file": str(bed.base / "puller1.password")}, "/x")
    connects, statements = [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        direct = wire.DirectStore(settings)
        direct._connect()
        middle = time.perf_counter()
        direct.checkin("puller1", ["puller1-n0"], int(time.time()))
        connects.append(middle - start)
        statements.append(time.perf_counter() - middle)
        direct.close()
    print(f"  in one process, driver {direct.driver}: connect + SCRAM login {statistics.median(connects) * 1000:.1f} "
          f"ms, the check-in statement {statistics.median(statements) * 1000:.1f} ms (medians)")


def bench_status(bed: Bed, store: Store, central_cfg: Path, args: argparse.Namespace) -> None:
    populate(store, args.names, args.servers)
    pairs = args.names * args.servers
    _, rc = wall([*bed.cli, "status", "--config", str(central_cfg)], 1)
    pgpass = bed.base / "pgpass"
    pgpass.write_text(f"127.0.0.1:{bed.pg.port}:fleet:fleet:{bed.pg.password}\n")
    os.chmod(pgpass, 0o600)
    os.environ["PGPASSFILE"] = str(pgpass)
    medians = interleaved({
        "table": [*bed.cli, "status", "--config", str(central_cfg)],
        "json": [*bed.cli, "status", "--json", "--config", str(central_cfg)],
        "psql": [pg_bin("psql"), "-h", "127.0.0.1", "-p", str(bed.pg.port), "-U", "fleet", "-d", "fleet",
                 "-Atq", "-c", STATUS_SQL]}, args.runs)
    status_table, status_json, psql = medians["table"], medians["json"], medians["psql"]
    print(f"status, {args.names} names x {args.servers} servers (~{pairs} rows), median of {args.runs}:")
    print(f"  fleet status (table)       {status_table * 1000:7.1f} ms   (exit {rc}: problem pairs found)")
    print(f"  fleet status --json        {status_json * 1000:7.1f} ms")
    print(f"  baseline psql, same join   {psql * 1000:7.1f} ms   ratio table/psql = {status_table / psql:.2f}")


def bench_load(bed: Bed, store: Store, central_cfg: Path, args: argparse.Namespace) -> None:
    rows = args.names * args.servers
    password = os.urandom(18).hex()
    bed.fleet("grant", "loadsrv", "--password-file", str(bed.secret("loadsrv", password)), "--config", str(central_cfg))
    # one role stands for 10,000 servers here: lift the per-server CONNECTION LIMIT that `fleet grant` set
    bed.pg.psql("ALTER ROLE loadsrv CONNECTION LIMIT -1")
    populate(store, rows, 1, holder="loadsrv", prefix="load")
    statement = wire.checkin_pg(now="extract(epoch from now())::bigint", server="'loadsrv'",
                                names=f"ARRAY['load' || lpad((:n)::text, 5, '0')]")
    script = bed.base / "checkin.sql"
    script.write_text(f"\\set n random(0, {rows - 1})\n{statement};\n")
    env = dict(os.environ, PGPASSWORD=password)
    print(f"check-in load: pgbench, the real check-in statement as role loadsrv (row-level security on), "
          f"{rows} names, {args.clients} clients, {args.seconds} s; need 33.3/s for 10,000 servers / 5 min:")
    for label, extra in (("persistent connections", []), ("new connection per check-in (-C)", ["-C"])):
        logdir = bed.base / ("log-c" if extra else "log-p")
        logdir.mkdir()
        proc = subprocess.run([pg_bin("pgbench"), "-n", "-h", "127.0.0.1", "-p", str(bed.pg.port), "-U", "loadsrv",
                               "-M", "extended", "-c", str(args.clients), "-j", "2", "-T", str(args.seconds),
                               "-f", str(script), "-l", "--log-prefix", str(logdir / "tx"), *extra, "fleet"],
                              capture_output=True, text=True, env=env, cwd=logdir)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        latencies = sorted(int(line.split()[2]) for f in logdir.iterdir() for line in f.read_text().splitlines())
        done = len(latencies)
        rate = next(float(ln.split("=")[1].split()[0]) for ln in proc.stdout.splitlines() if ln.startswith("tps"))
        p99 = latencies[int(done * 0.99) - 1] / 1000
        print(f"  {label:34s} {rate:9.0f} check-ins/s  p99 {p99:6.1f} ms  ({done} check-ins; "
              f"headroom x{rate / 33.3:.0f})")
    # the project's own driver path: connect (SCRAM) + DirectStore.checkin + close, per check-in
    procs = max(2, args.clients // 4)
    argv = [bed.py, str(Path(__file__).resolve()), "--worker", bed.pg.url_for("loadsrv"),
            str(bed.base / "loadsrv.password"), str(rows), str(args.seconds)]
    workers = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(procs)]
    latencies = sorted(float(x) for w in workers for x in w.communicate()[0].split())
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"  {'DirectStore, connect per check-in':34s} {len(latencies) / args.seconds:9.0f} check-ins/s  "
          f"p99 {p99:6.1f} ms  ({len(latencies)} check-ins, {procs} processes; "
          f"headroom x{len(latencies) / args.seconds / 33.3:.0f})")


RENEW_NAMES, RENEW_SERVERS, RENEW_DUE, RENEW_BUDGET, FLOOD_LIMIT = 1000, 100, 10, 20, 100


def populate_renew(store: Store, flood: bool) -> None:
    """1,000 issued names on 100 servers, 10 due on 10 other servers; with ``flood``, srv000 at its limit."""
    import sqlalchemy as sa

    from certbot_safedeploy.fleet.db.schema import allowed_names, certificates, enrollments
    from certbot_safedeploy.fleet.rules import csr

    now = int(time.time())
    key = csr.generate_key("ec")  # one key for all: the accept step checks CSRs, not key reuse
    pin = csr.key_pin(key)
    allowed, enrolled, certs = [], [], []
    per = RENEW_NAMES // RENEW_SERVERS
    for i in range(RENEW_NAMES):
        server, name = f"srv{i // per:03d}", f"name{i:05d}"
        domains = json.dumps([f"{name}.example.net"])
        request = csr.build_csr(key, (f"{name}.example.net",)).decode()
        allowed.append({"server": server, "domain": f"{name}.example.net", "added_at": now})
        row = {"name": name, "server": server, "domains": domains, "key_type": "ec", "csr_pem": request,
               "csr_pin": pin, "enrolled_at": now - 86400}
        enrolled.append(row)
        due = i % per == 0 and 1 <= i // per <= RENEW_DUE  # on srv001..srv010, not the flooder
        certs.append({**row, "cert_pem": PEM, "chain_pem": PEM, "serial": f"{i:036x}", "cert_pin": pin,
                      "not_before": now - 86400, "not_after": now + 80 * 86400, "issued_at": now - 86400,
                      "force_renewal": due})
    if flood:
        for j in range(FLOOD_LIMIT - per):  # srv000 fills its limit with never-issued names that sort first
            name = f"a-flood{j:03d}"
            allowed.append({"server": "srv000", "domain": f"{name}.example.net", "added_at": now})
            enrolled.append({"name": name, "server": "srv000", "domains": json.dumps([f"{name}.example.net"]),
                             "key_type": "ec", "csr_pem": csr.build_csr(key, (f"{name}.example.net",)).decode(),
                             "csr_pin": pin, "enrolled_at": now})
    with store.engine.begin() as conn:
        conn.execute(sa.insert(allowed_names), allowed)
        conn.execute(sa.insert(enrollments), enrolled)
        conn.execute(sa.insert(certificates), certs)


def bench_renew(bed: Bed) -> None:
    pki = Pki.create("Renew")
    ca = bed.base / "renew-ca"
    ca.mkdir()
    (ca / "inter.pem").write_bytes(pki.intermediate.pem)
    (ca / "inter.key").write_bytes(pki.intermediate.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    fake = REPO / "tests" / "fleet" / "fake_certbot.py"
    results = {}
    for label, flood in (("without a flood", False), ("one server flooding at its limit", True)):
        db = "renew_flood" if flood else "renew_plain"
        bed.pg.psql(f"CREATE DATABASE {db} OWNER fleet")
        url = bed.pg.url.rsplit("/", 1)[0] + "/" + db
        cfg = bed.base / f"{db}.toml"
        cfg.write_text(f'state_dir = "{bed.base / db}"\n[fleet]\nstore = "{url}"\n'
                       f'store_password_file = "{bed.central_password}"\nserver = "central"\n'
                       f'certbot = ["{bed.py}", "{fake}", "{ca}"]\nmax_orders_per_3h = {RENEW_BUDGET}\n'
                       f'max_enrollments_per_server = {FLOOD_LIMIT}\n')
        os.chmod(cfg, 0o600)
        bed.fleet("migrate", "--config", str(cfg))
        store = Store.open(settings_from_table({"store": url, "store_password_file": str(bed.central_password)},
                                               str(bed.base)))
        populate_renew(store, flood)
        store.close()
        start = time.perf_counter()
        proc = subprocess.run([*bed.cli, "renew", "--config", str(cfg)], capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        out = proc.stdout + proc.stderr
        issued = [ln.split(":")[0] for ln in out.splitlines() if "issued and published" in ln]
        others = [n for n in issued if not n.startswith("a-flood")]
        deferred = sum("deferred" in ln for ln in out.splitlines())
        results[flood] = elapsed
        print(f"renew, {RENEW_NAMES} names x {RENEW_SERVERS} servers, {RENEW_DUE} due on {RENEW_DUE} servers, "
              f"budget {RENEW_BUDGET}, {label}: {elapsed:.2f} s (exit {proc.returncode}); orders {len(issued)}; "
              f"other servers' due names issued {len(others)}/{RENEW_DUE}; deferred {deferred}")
    print(f"  renew with the flood / without = {results[True] / results[False]:.2f} (the flooder's extra "
          f"{RENEW_BUDGET - RENEW_DUE} orders fill the budget; nobody else's name waits)")


def worker(url: str, password: str, rows: int, seconds: int) -> None:
    import random

    from certbot_safedeploy.fleet.db.wire import DirectStore

    settings = settings_from_table({"store": url, "store_password_file": password, "server": "loadsrv"}, "/x")
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        store = DirectStore(settings)
        got = store.checkin("loadsrv", [f"load{random.randrange(rows):05d}"], int(time.time()))
        store.close()
        assert len(got) == 1
        out.append(f"{(time.perf_counter() - start) * 1000:.2f}")
    print(" ".join(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        main()
