"""Key retention and the all-senders listing: ``packages.purged_at``, an index on
``packages.created_at``.

A purged record keeps its row (evidence) but not its key: ``wrapped_password`` becomes
empty (the column stays NOT NULL: making it nullable would make SQLite rebuild the
table, and dropping the old ``packages`` would cascade into ``grants``). A CHECK ties the
two together and allows purging only revoked or expired records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = ("(purged_at IS NULL AND length(wrapped_password) > 0) OR "
         "(purged_at IS NOT NULL AND length(wrapped_password) = 0 "
         "AND state IN ('revoked', 'expired'))")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("packages", sa.Column("purged_at", sa.DateTime(timezone=True)))
        op.create_check_constraint("ck_packages_purged", "packages", CHECK)
    else:
        # SQLite adds a constraint only with its column (no ALTER TABLE ADD CONSTRAINT).
        op.execute("ALTER TABLE packages ADD COLUMN purged_at DATETIME "
                   f"CONSTRAINT ck_packages_purged CHECK ({CHECK})")
    op.create_index("ix_packages_created_at", "packages", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_packages_created_at", table_name="packages")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("ck_packages_purged", "packages", type_="check")
        op.drop_column("packages", "purged_at")
    else:
        op.execute("ALTER TABLE packages DROP COLUMN purged_at")
