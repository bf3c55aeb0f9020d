"""Who each earlier message showed to whom, per sender (SPEC 10.6), as keyed hashes.

Revision ID: 0006_history_together
Revises: 0005_history_orgs
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_history_together"
down_revision: str | None = "0005_history_orgs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_together",
        sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("message_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("address_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_hash", "message_hash", "address_hash",
                                name="pk_history_together"),
    )
    op.create_index("ix_history_together_sender_hash_address_hash", "history_together",
                    ["sender_hash", "address_hash"])
    op.create_index("ix_history_together_last_used", "history_together", ["last_used"])


def downgrade() -> None:
    op.drop_table("history_together")
