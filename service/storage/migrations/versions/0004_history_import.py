"""The Sent-folder import's cursor (SPEC 10.2): one row per sender, Gmail's opaque ids only.

Revision ID: 0004_history_import
Revises: 0003_history
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0004_history_import"
down_revision: str | None = "0003_history"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "history_imports",
        sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("page_token", sa.Text(), nullable=True),
        sa.Column("pending", sa.Text(), nullable=False),
        sa.Column("history_id", sa.String(32), nullable=True),
        sa.Column("seen", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        _when("started_at"), _when("updated_at"), _when("finished_at", True),
        sa.Column("last_error", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("sender_hash", name="pk_history_imports"),
        sa.CheckConstraint("phase IN ('scan', 'follow')", name="ck_history_imports_phase"),
    )


def downgrade() -> None:
    op.drop_table("history_imports")
