"""Recipient history (SPEC 10.2): per-sender addresses, names and threads, as keyed
hashes and wrapped values only; the history key wrapped by the master key.

Revision ID: 0003_history
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0003_history"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _hash(name: str) -> sa.Column[bytes]:
    return sa.Column(name, sa.LargeBinary(32), nullable=False)


def upgrade() -> None:
    op.create_table(
        "history_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_history_keys"),
    )
    op.create_table(
        "history_recipients",
        _hash("sender_hash"), _hash("address_hash"), _hash("domain_hash"), _hash("local_hash"),
        sa.Column("address_wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _when("first_used"), _when("last_used"),
        sa.PrimaryKeyConstraint("sender_hash", "address_hash", name="pk_history_recipients"),
    )
    op.create_index("ix_history_recipients_sender_hash_domain_hash", "history_recipients",
                    ["sender_hash", "domain_hash"])
    op.create_index("ix_history_recipients_sender_hash_local_hash", "history_recipients",
                    ["sender_hash", "local_hash"])
    op.create_index("ix_history_recipients_last_used", "history_recipients", ["last_used"])
    op.create_table(
        "history_names",
        _hash("sender_hash"), _hash("name_hash"), _hash("address_hash"),
        sa.Column("name_wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        _when("last_used"),
        sa.PrimaryKeyConstraint("sender_hash", "name_hash", "address_hash",
                                name="pk_history_names"),
    )
    op.create_index("ix_history_names_sender_hash_address_hash", "history_names",
                    ["sender_hash", "address_hash"])
    op.create_index("ix_history_names_last_used", "history_names", ["last_used"])
    op.create_table(
        "history_threads",
        _hash("sender_hash"), _hash("message_hash"), _hash("domain_hash"),
        _when("last_used"),
        sa.PrimaryKeyConstraint("sender_hash", "message_hash", "domain_hash",
                                name="pk_history_threads"),
    )
    op.create_index("ix_history_threads_last_used", "history_threads", ["last_used"])
    op.create_table(
        "history_messages",
        _hash("sender_hash"), _hash("message_hash"), _when("at"),
        sa.PrimaryKeyConstraint("sender_hash", "message_hash", name="pk_history_messages"),
    )
    op.create_index("ix_history_messages_at", "history_messages", ["at"])


def downgrade() -> None:
    for table in ("history_messages", "history_threads", "history_names",
                  "history_recipients", "history_keys"):
        op.drop_table(table)
