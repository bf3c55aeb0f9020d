"""The tables. Alembic migrations (``migrations/versions``) create them; this module is the
application's view of them and the target that ``tests/storage`` compares migrations to.

Link tokens and one-time codes exist only as hashes (the CHECKs refuse anything shorter
than a SHA-256 digest); subjects and bodies are not stored at all.
"""

from __future__ import annotations

import sqlalchemy as sa

from service.storage.records import RELEASE_MODES, STATES
from service.storage.sqltypes import UTCDateTime, big_id, json_type

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# A key record holds its wrapped key until retention erases it, and only an ended
# (revoked or expired) record can be erased. (Migration 0002.)
PURGED_CHECK = ("(purged_at IS NULL AND length(wrapped_password) > 0) OR "
                "(purged_at IS NOT NULL AND length(wrapped_password) = 0 "
                "AND state IN ('revoked', 'expired'))")

packages = sa.Table(
    "packages", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("sender", sa.String(320), nullable=False),
    sa.Column("message_id", sa.String(998)),
    sa.Column("gmail_message_id", sa.String(64)),
    sa.Column("subject_hash", sa.LargeBinary(32)),
    sa.Column("zip_filename", sa.String(255), nullable=False),
    sa.Column("file_names", json_type(), nullable=False),
    sa.Column("recipients", json_type(), nullable=False),
    sa.Column("wrapped_password", sa.LargeBinary(), nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("release_mode", sa.String(20), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("release_at", UTCDateTime()),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("reveal_limit", sa.Integer(), nullable=False),
    sa.Column("reveal_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("first_retrieved_at", UTCDateTime()),
    sa.Column("released_at", UTCDateTime()),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("purged_at", UTCDateTime()),
    sa.CheckConstraint(_in("state", STATES), name="state"),
    sa.CheckConstraint(_in("release_mode", RELEASE_MODES), name="release_mode"),
    sa.CheckConstraint("reveal_limit >= 1", name="reveal_limit"),
    sa.CheckConstraint("reveal_count >= 0", name="reveal_count"),
    sa.CheckConstraint(PURGED_CHECK, name="purged"),
    sa.Index(None, "sender", "created_at"),
    sa.Index(None, "created_at"),
    sa.Index(None, "state", "release_at"),
    sa.Index(None, "state", "expires_at"),
)

grants = sa.Table(
    "grants", metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("package_id", sa.String(64),
              sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False),
    sa.Column("address", sa.String(320), nullable=False),
    sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("notice_sent_at", UTCDateTime()),
    sa.Column("code_hash", sa.LargeBinary()),
    sa.Column("code_expires_at", UTCDateTime()),
    sa.Column("code_attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("code_sent_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("code_last_sent_at", UTCDateTime()),
    sa.Column("revealed_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("last_revealed_at", UTCDateTime()),
    sa.CheckConstraint("length(token_hash) = 32", name="token_hash"),
    sa.CheckConstraint("code_hash IS NULL OR length(code_hash) >= 32", name="code_hash"),
    sa.UniqueConstraint("token_hash"),
    sa.UniqueConstraint("package_id", "address"),
)

# Append-only: the migration adds triggers that reject UPDATE, DELETE (and TRUNCATE on
# PostgreSQL). No foreign key to packages: the evidence outlives the key records.
audit_events = sa.Table(
    "audit_events", metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor", sa.String(400), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("package_id", sa.String(64)),
    sa.Column("message_id", sa.String(998)),
    sa.Column("data", json_type(), nullable=False),
    # " code1 code2 " — the finding codes found in ``data``, for portable search.
    sa.Column("codes", sa.Text(), nullable=False, server_default=sa.text("''")),
    sa.Index(None, "at"),
    sa.Index(None, "actor", "at"),
    sa.Index(None, "package_id"),
    sa.Index(None, "message_id"),
)

# Fixed-window counters shared by every instance; ``key`` is a SHA-256 hex of the caller's
# key so addresses in keys are not kept here.
rate_counters = sa.Table(
    "rate_counters", metadata,
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("window_start", UTCDateTime(), nullable=False),
    sa.Column("window_end", UTCDateTime(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("key", "window_start"),
    sa.Index(None, "window_end"),
)

# Recipient history (SPEC 10.2; migration 0003). No address, name or message id in the
# clear: ``*_hash`` are HMAC-SHA256 under the history key, ``*_wrapped`` AES-GCM under it,
# and the history key itself is stored only wrapped by the master key / KMS.
history_keys = sa.Table(
    "history_keys", metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

history_recipients = sa.Table(
    "history_recipients", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("address_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("domain_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("local_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("address_wrapped", sa.LargeBinary(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("first_used", UTCDateTime(), nullable=False),
    sa.Column("last_used", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("sender_hash", "address_hash"),
    sa.Index(None, "sender_hash", "domain_hash"),
    sa.Index(None, "sender_hash", "local_hash"),
    sa.Index(None, "last_used"),
)

history_names = sa.Table(
    "history_names", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("name_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("address_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("name_wrapped", sa.LargeBinary(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("last_used", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("sender_hash", "name_hash", "address_hash"),
    sa.Index(None, "sender_hash", "address_hash"),
    sa.Index(None, "last_used"),
)

# Which organisations (registrable domains) each message of a thread went to, under the
# message's own id and every id it references: a reply finds its thread by any of them.
history_threads = sa.Table(
    "history_threads", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("message_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("domain_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("last_used", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("sender_hash", "message_hash", "domain_hash"),
    sa.Index(None, "last_used"),
)

# Messages already counted (an import run twice, a send retried): counted once.
history_messages = sa.Table(
    "history_messages", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("message_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("sender_hash", "message_hash"),
    sa.Index(None, "at"),
)

# Who an earlier message showed to whom (migration 0006, SPEC 10.6): one row per visible
# address (From/To/Cc) of a message the sender sent, or of a thread read from Gmail, when
# it showed 2 to ``MAX_TOGETHER`` people. Keyed hashes only: equality is all it answers.
history_together = sa.Table(
    "history_together", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("message_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("address_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("last_used", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("sender_hash", "message_hash", "address_hash"),
    sa.Index(None, "sender_hash", "address_hash"),
    sa.Index(None, "last_used"),
)

# The Sent-folder import through the Gmail API (migration 0004): one resumable cursor per
# sender. Gmail's own opaque ids and tokens only (message ids of the page being read, the
# next page token, the mailbox historyId): nothing names a correspondent.
history_imports = sa.Table(
    "history_imports", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("phase", sa.String(16), nullable=False),
    sa.Column("page_token", sa.Text(), nullable=True),
    sa.Column("pending", sa.Text(), nullable=False),
    sa.Column("history_id", sa.String(32), nullable=True),
    sa.Column("seen", sa.Integer(), nullable=False),
    sa.Column("imported", sa.Integer(), nullable=False),
    sa.Column("skipped", sa.Integer(), nullable=False),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("finished_at", UTCDateTime(), nullable=True),
    sa.Column("last_error", sa.String(64), nullable=True),
    sa.PrimaryKeyConstraint("sender_hash"),
    sa.CheckConstraint("phase IN ('scan', 'follow')", name="phase"),
)

# Organisation names seen with a registrable domain (migration 0005): the company a
# display name or a greeting named (``policy.orgnames`` key) and the domain its mail went
# to. Equality on both sides, so keyed hashes; the domain also sealed for the evidence.
history_orgs = sa.Table(
    "history_orgs", metadata,
    sa.Column("sender_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("org_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("domain_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("domain_wrapped", sa.LargeBinary(), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("last_used", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("sender_hash", "org_hash", "domain_hash"),
    sa.Index(None, "last_used"),
)
