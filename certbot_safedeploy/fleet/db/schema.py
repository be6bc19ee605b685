"""The fleet store's tables, in their current shape (schema version 4).

Times are whole seconds since the epoch (UTC) so that SQLite and PostgreSQL
store and compare them alike.  Serials are lower-case hex.  PEM is text.
:mod:`.migrations` builds older stores up to this shape.

Who writes what (v3): a server writes only its own ``enrollments`` row (the
CSR it asks for) and its own ``server_reports`` rows; everything else belongs
to the central host.  ``certificates`` holds the CSR the central host accepted
(``server`` is the approved holder) and what was issued for it.  On
PostgreSQL the roles and row-level security of :mod:`.roles` enforce this.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

schema_version = sa.Table(
    "safedeploy_schema", metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

certificates = sa.Table(
    "certificates", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("domains", sa.Text, nullable=False),  # JSON list, in CSR order
    sa.Column("key_type", sa.String(16), nullable=False),
    sa.Column("server", sa.String(128), nullable=False),  # the server that holds the key
    sa.Column("csr_pem", sa.Text, nullable=False),
    sa.Column("csr_pin", sa.String(64), nullable=False),
    sa.Column("enrolled_at", sa.BigInteger, nullable=False),
    # the current certificate
    sa.Column("cert_pem", sa.Text),
    sa.Column("chain_pem", sa.Text),
    sa.Column("serial", sa.String(64)),
    sa.Column("cert_pin", sa.String(64)),
    sa.Column("not_before", sa.BigInteger),
    sa.Column("not_after", sa.BigInteger),
    sa.Column("issued_at", sa.BigInteger),
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),
    # the one before it
    sa.Column("prev_cert_pem", sa.Text),
    sa.Column("prev_chain_pem", sa.Text),
    sa.Column("prev_serial", sa.String(64)),
    sa.Column("prev_not_after", sa.BigInteger),
    # renewal state
    sa.Column("last_attempt_at", sa.BigInteger),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.BigInteger),
    sa.Column("last_error", sa.Text),
    sa.Column("force_renewal", sa.Boolean, nullable=False, server_default=sa.false()),  # v2
)

allowed_names = sa.Table(  # v3: which server may hold which DNS names (central writes)
    "allowed_names", metadata,
    sa.Column("server", sa.String(128), primary_key=True),
    sa.Column("domain", sa.String(253), primary_key=True),  # exact; a wildcard is written "*.example.com"
    sa.Column("added_at", sa.BigInteger, nullable=False),
)

enrollments = sa.Table(  # v3: what each server asks for (the server writes its own rows)
    "enrollments", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("server", sa.String(128), primary_key=True),
    sa.Column("domains", sa.Text, nullable=False),  # JSON list, in CSR order
    sa.Column("key_type", sa.String(16), nullable=False),
    sa.Column("csr_pem", sa.Text, nullable=False),
    sa.Column("csr_pin", sa.String(64), nullable=False),
    # v4: PostgreSQL's clock sets it (a default and a trigger); servers have no grant on it
    sa.Column("enrolled_at", sa.BigInteger, nullable=False),
    sa.Column("takeover", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("refusal", sa.Text),  # why the central host did not accept it (central writes)
)

server_reports = sa.Table(
    "server_reports", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("server", sa.String(128), primary_key=True),
    sa.Column("last_pull_at", sa.BigInteger),
    sa.Column("reported_at", sa.BigInteger),
    sa.Column("outcome", sa.String(32)),
    sa.Column("installed_serial", sa.String(64)),
    sa.Column("served_serial", sa.String(64)),
    sa.Column("detail", sa.Text),
    sa.ForeignKeyConstraint(["name", "server"], ["enrollments.name", "enrollments.server"],
                            ondelete="CASCADE", name="server_reports_enrollment_fkey"),  # v3
)

attempts = sa.Table(  # v2: one row per order placed, for the CA's rate limits
    "attempts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("at", sa.BigInteger, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("detail", sa.Text),
    sa.Index("attempts_at", "at"),
)

approvals = sa.Table(  # v4: `fleet approve NAME --to SERVER`: a takeover or key change, for one CSR key
    "approvals", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("server", sa.String(128), primary_key=True),
    sa.Column("csr_pin", sa.String(64), nullable=False),
    sa.Column("approved_at", sa.BigInteger, nullable=False),
)

refusal_details = sa.Table(  # v4: why an enrollment was refused, as the central host sees it
    "refusal_details", metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("server", sa.String(128), primary_key=True),
    sa.Column("detail", sa.Text, nullable=False),
)

limits = sa.Table(  # v4: the [fleet] per-server limits that PostgreSQL's triggers read
    "safedeploy_limits", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)
