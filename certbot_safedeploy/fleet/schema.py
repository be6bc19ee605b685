"""The fleet store's tables, in their current shape (schema version 2).

Times are whole seconds since the epoch (UTC) so that SQLite and PostgreSQL
store and compare them alike.  Serials are lower-case hex.  PEM is text.
:mod:`.migrations` builds older stores up to this shape.
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

server_reports = sa.Table(
    "server_reports", metadata,
    sa.Column("name", sa.String(128), sa.ForeignKey("certificates.name", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("server", sa.String(128), primary_key=True),
    sa.Column("last_pull_at", sa.BigInteger),
    sa.Column("reported_at", sa.BigInteger),
    sa.Column("outcome", sa.String(32)),
    sa.Column("installed_serial", sa.String(64)),
    sa.Column("served_serial", sa.String(64)),
    sa.Column("detail", sa.Text),
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
