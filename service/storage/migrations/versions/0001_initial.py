"""Initial schema: key records, grants, append-only audit log, rate counters.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types at this revision (migrations never import the live schema).
TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
STATES = "'held', 'awaiting_release', 'released', 'revoked', 'expired'"
MODES = "'delay', 'manual', 'sender_only'"

PG_APPEND_ONLY = (
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
           RAISE EXCEPTION USING
               MESSAGE = 'audit_events is append-only (' || TG_OP || ' refused)',
               ERRCODE = 'insufficient_privilege';
       END
       $$""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
       FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
)
SQLITE_APPEND_ONLY = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only (DELETE refused)'); END""",
)


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("message_id", sa.String(998)),
        sa.Column("gmail_message_id", sa.String(64)),
        sa.Column("subject_hash", sa.LargeBinary(32)),
        sa.Column("zip_filename", sa.String(255), nullable=False),
        sa.Column("file_names", JSON, nullable=False),
        sa.Column("recipients", JSON, nullable=False),
        sa.Column("wrapped_password", sa.LargeBinary(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("release_mode", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("release_at", TS),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("reveal_limit", sa.Integer(), nullable=False),
        sa.Column("reveal_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("first_retrieved_at", TS),
        sa.Column("released_at", TS),
        sa.Column("revoked_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
        sa.CheckConstraint(f"state IN ({STATES})", name="ck_packages_state"),
        sa.CheckConstraint(f"release_mode IN ({MODES})", name="ck_packages_release_mode"),
        sa.CheckConstraint("reveal_limit >= 1", name="ck_packages_reveal_limit"),
        sa.CheckConstraint("reveal_count >= 0", name="ck_packages_reveal_count"),
    )
    op.create_index("ix_packages_sender_created_at", "packages", ["sender", "created_at"])
    op.create_index("ix_packages_state_release_at", "packages", ["state", "release_at"])
    op.create_index("ix_packages_state_expires_at", "packages", ["state", "expires_at"])

    op.create_table(
        "grants",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("package_id", sa.String(64), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("notice_sent_at", TS),
        sa.Column("code_hash", sa.LargeBinary()),
        sa.Column("code_expires_at", TS),
        sa.Column("code_attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("code_sent_count", sa.Integer(), nullable=False,
                  server_default=sa.text("0")),
        sa.Column("code_last_sent_at", TS),
        sa.Column("revealed_count", sa.Integer(), nullable=False,
                  server_default=sa.text("0")),
        sa.Column("last_revealed_at", TS),
        sa.PrimaryKeyConstraint("id", name="pk_grants"),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], ondelete="CASCADE",
                                name="fk_grants_package_id_packages"),
        sa.UniqueConstraint("token_hash", name="uq_grants_token_hash"),
        sa.UniqueConstraint("package_id", "address", name="uq_grants_package_id_address"),
        sa.CheckConstraint("length(token_hash) = 32", name="ck_grants_token_hash"),
        sa.CheckConstraint("code_hash IS NULL OR length(code_hash) >= 32",
                           name="ck_grants_code_hash"),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(400), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("package_id", sa.String(64)),
        sa.Column("message_id", sa.String(998)),
        sa.Column("data", JSON, nullable=False),
        sa.Column("codes", sa.Text(), nullable=False, server_default=sa.text("''")),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_actor_at", "audit_events", ["actor", "at"])
    op.create_index("ix_audit_events_package_id", "audit_events", ["package_id"])
    op.create_index("ix_audit_events_message_id", "audit_events", ["message_id"])

    op.create_table(
        "rate_counters",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_counters"),
    )
    op.create_index("ix_rate_counters_window_end", "rate_counters", ["window_end"])

    pg = op.get_bind().dialect.name == "postgresql"
    for statement in PG_APPEND_ONLY if pg else SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
    else:
        op.execute("DROP TRIGGER audit_events_no_delete")
        op.execute("DROP TRIGGER audit_events_no_update")
    op.drop_table("rate_counters")
    op.drop_table("audit_events")
    op.drop_table("grants")
    op.drop_table("packages")
