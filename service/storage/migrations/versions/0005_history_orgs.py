"""Organisation names seen with each domain, per sender (SPEC 10.2), as keyed hashes.

Revision ID: 0005_history_orgs
Revises: 0004_history_import
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_history_orgs"
down_revision: str | None = "0004_history_import"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "history_orgs",
        sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("org_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("domain_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("domain_wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_used", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_hash", "org_hash", "domain_hash",
                                name="pk_history_orgs"),
    )
    op.create_index("ix_history_orgs_last_used", "history_orgs", ["last_used"])


def downgrade() -> None:
    op.drop_table("history_orgs")
