"""PostgreSQL roles and row-level security for the fleet store (schema v3).

The central host's role owns the tables (an owner bypasses row-level
security).  Every server logs in with its own role, named like the server and
made a member of :data:`GROUP`, which holds every grant below.  Policies
compare a row's ``server`` column with ``current_user``, so a server role can:

* read its own allow-list rows, enrollments, reports and the certificates the
  central host approved for it (what ``fleet pull`` needs);
* insert or update its own enrollment, and only for names on its allow list
  (the CSR's own names are checked again by ``fleet renew``);
* insert its own report rows for its own enrollments and update them.

It has no privilege at all on ``attempts``, no write privilege on
``certificates`` or ``allowed_names``, and column grants keep it off the
columns the central host writes (``refusal``, ``server`` of an existing row).
The text here is the migration: old steps never change.

Schema v4 (:data:`V4`) takes ``enrolled_at`` out of the servers' hands (a
default and a trigger set it from the central clock, and the column grants
are revoked), bounds what one server may store (a trigger reads
``safedeploy_limits``, which the central host writes from ``[fleet]``), and
gives every existing server role a connection limit and session timeouts.
``approvals`` and ``refusal_details`` are central-only: no grant at all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

GROUP = "safedeploy_servers"

_OWN = "server = current_user::text"
_ALLOWED = ("NOT EXISTS (SELECT 1 FROM json_array_elements_text(domains::json) AS d(domain) "
            "WHERE d.domain NOT IN (SELECT a.domain FROM allowed_names a WHERE a.server = current_user::text))")

V3 = (
    f"""DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{GROUP}') THEN
            CREATE ROLE {GROUP} NOLOGIN;
        END IF;
    END $$""",
    f"GRANT SELECT ON safedeploy_schema TO {GROUP}",
    f"GRANT SELECT ON allowed_names TO {GROUP}",
    f"GRANT SELECT ON certificates TO {GROUP}",
    f"GRANT SELECT, INSERT (name, server, domains, key_type, csr_pem, csr_pin, enrolled_at, takeover), "
    f"UPDATE (domains, key_type, csr_pem, csr_pin, enrolled_at, takeover) ON enrollments TO {GROUP}",
    f"GRANT SELECT, INSERT (name, server), UPDATE (last_pull_at, reported_at, outcome, installed_serial, "
    f"served_serial, detail) ON server_reports TO {GROUP}",
    "ALTER TABLE allowed_names ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE certificates ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE enrollments ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE server_reports ENABLE ROW LEVEL SECURITY",
    f"CREATE POLICY server_reads_own ON allowed_names FOR SELECT TO {GROUP} USING ({_OWN})",
    f"CREATE POLICY server_reads_own ON certificates FOR SELECT TO {GROUP} USING ({_OWN})",
    f"CREATE POLICY server_reads_own ON enrollments FOR SELECT TO {GROUP} USING ({_OWN})",
    f"CREATE POLICY server_enrolls_allowed ON enrollments FOR INSERT TO {GROUP} "
    f"WITH CHECK ({_OWN} AND {_ALLOWED})",
    f"CREATE POLICY server_reenrolls_allowed ON enrollments FOR UPDATE TO {GROUP} "
    f"USING ({_OWN}) WITH CHECK ({_OWN} AND {_ALLOWED})",
    f"CREATE POLICY server_reads_own ON server_reports FOR SELECT TO {GROUP} USING ({_OWN})",
    f"CREATE POLICY server_adds_own ON server_reports FOR INSERT TO {GROUP} WITH CHECK ({_OWN} AND EXISTS "
    "(SELECT 1 FROM enrollments e WHERE e.name = server_reports.name AND e.server = current_user::text))",
    f"CREATE POLICY server_reports_own ON server_reports FOR UPDATE TO {GROUP} USING ({_OWN}) WITH CHECK ({_OWN})",
)


# what `fleet grant` and the v4 migration give every server role
ROLE_TIMEOUTS = {"statement_timeout": "30s", "idle_in_transaction_session_timeout": "30s", "lock_timeout": "10s"}
DEFAULT_CONNECTION_LIMIT = 4
_EPOCH_NOW = "extract(epoch FROM now())::bigint"
_LIMIT = "(SELECT value FROM safedeploy_limits WHERE name = '{0}')"

V4 = (
    f"ALTER TABLE enrollments ALTER COLUMN enrolled_at SET DEFAULT {_EPOCH_NOW}",
    f"REVOKE INSERT (enrolled_at), UPDATE (enrolled_at) ON enrollments FROM {GROUP}",
    f"GRANT SELECT ON safedeploy_limits TO {GROUP}",
    f"""CREATE FUNCTION safedeploy_enrollment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND NEW.csr_pem IS NOT DISTINCT FROM OLD.csr_pem
                AND NEW.domains IS NOT DISTINCT FROM OLD.domains AND NEW.csr_pin IS NOT DISTINCT FROM OLD.csr_pin
                AND NEW.key_type IS NOT DISTINCT FROM OLD.key_type AND NEW.takeover = OLD.takeover THEN
            NEW.enrolled_at := OLD.enrolled_at;  -- the central host's refusal: the request did not change
            RETURN NEW;
        END IF;
        NEW.enrolled_at := {_EPOCH_NOW};  -- the central clock, whatever the row says
        IF octet_length(NEW.csr_pem) + octet_length(NEW.domains) > {_LIMIT.format('csr_bytes')} THEN
            RAISE EXCEPTION 'safedeploy: the CSR is larger than the central host allows (max_csr_bytes)'
                USING ERRCODE = 'check_violation';
        END IF;
        IF json_array_length(NEW.domains::json) > {_LIMIT.format('names_per_csr')} THEN
            RAISE EXCEPTION 'safedeploy: more names than the central host allows (max_names_per_csr)'
                USING ERRCODE = 'check_violation';
        END IF;
        IF TG_OP = 'INSERT' AND (SELECT count(*) FROM enrollments WHERE server = NEW.server)
                >= {_LIMIT.format('enrollments')} THEN
            RAISE EXCEPTION 'safedeploy: this server has as many enrollments as the central host allows '
                '(max_enrollments_per_server)' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER safedeploy_enrollment_guard BEFORE INSERT OR UPDATE ON enrollments "
    "FOR EACH ROW EXECUTE FUNCTION safedeploy_enrollment_guard()",
    f"""CREATE FUNCTION safedeploy_report_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF octet_length(coalesce(NEW.outcome, '')) + octet_length(coalesce(NEW.installed_serial, ''))
                + octet_length(coalesce(NEW.served_serial, '')) + octet_length(coalesce(NEW.detail, ''))
                > {_LIMIT.format('report_bytes')} THEN
            RAISE EXCEPTION 'safedeploy: the report is larger than the central host allows (max_report_bytes)'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END $$""",
    "CREATE TRIGGER safedeploy_report_guard BEFORE INSERT OR UPDATE ON server_reports "
    "FOR EACH ROW EXECUTE FUNCTION safedeploy_report_guard()",
    f"""DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT m.rolname FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid
                 JOIN pg_roles m ON m.oid = a.member WHERE g.rolname = '{GROUP}'
                 -- PostgreSQL 16+ records the role that created the group as an admin member: not a server
                 AND m.rolname <> current_user AND NOT m.rolsuper AND NOT m.rolcreaterole LOOP
            EXECUTE format('ALTER ROLE %I CONNECTION LIMIT {DEFAULT_CONNECTION_LIMIT}', r.rolname);
"""
    + "".join(f"            EXECUTE format('ALTER ROLE %I SET {k} = %L', r.rolname, '{v}');" + chr(10)
              for k, v in ROLE_TIMEOUTS.items())
    + "        END LOOP;" + chr(10) + "    END $$",
)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 5802, RFC 7677).

    ``fleet grant`` sends this instead of the password, so the password never
    appears in a statement (or in a ``log_statement = all`` log).
    """
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def role_statements(server: str, verifier: str, exists: bool,
                    connection_limit: int = DEFAULT_CONNECTION_LIMIT) -> list[str]:
    """SQL that creates (or re-passwords) the login role of ``server``, with its limits."""
    role = quote_ident(server)
    limits = [f"ALTER ROLE {role} CONNECTION LIMIT {int(connection_limit)}"] + [
        f"ALTER ROLE {role} SET {k} = {quote_literal(v)}" for k, v in ROLE_TIMEOUTS.items()]
    if exists:
        return [f"ALTER ROLE {role} WITH LOGIN PASSWORD {quote_literal(verifier)}", *limits]
    return [f"CREATE ROLE {role} WITH LOGIN INHERIT PASSWORD {quote_literal(verifier)}",
            f"GRANT {GROUP} TO {role}", *limits]
