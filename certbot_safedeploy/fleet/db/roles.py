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


def role_statements(server: str, verifier: str, exists: bool) -> list[str]:
    """SQL that creates (or re-passwords) the login role of ``server``."""
    role = quote_ident(server)
    if exists:
        return [f"ALTER ROLE {role} WITH LOGIN PASSWORD {quote_literal(verifier)}"]
    return [f"CREATE ROLE {role} WITH LOGIN INHERIT PASSWORD {quote_literal(verifier)}",
            f"GRANT {GROUP} TO {role}"]
