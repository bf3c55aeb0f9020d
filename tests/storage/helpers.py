"""Shared test data for the storage suite (imported by the tests, not a fixture module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from service.storage import Package, Store, hash_token

NOW = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
SENDER = "sato@corp.example"
RECIPIENTS = ("tanaka@partner.example", "Suzuki@Other.example", "kato@corp.example")


def make_package(store: Store, *, now: datetime = NOW, tokens: tuple[str, ...] = ("tok-a",),
                 **overrides: Any) -> Package:
    """A delay-mode package with one grant per token (to RECIPIENTS in order)."""
    args: dict[str, Any] = dict(
        sender=SENDER, recipients=list(RECIPIENTS), zip_filename="attachments.zip",
        file_names=["社員名簿.xlsx", "見積書.pdf"], wrapped_password=b"\x01" * 60,
        release_mode="delay", now=now, release_at=now + timedelta(minutes=5),
        expires_at=now + timedelta(days=7), reveal_limit=3,
        message_id="<m1@corp.example>", gmail_message_id="18c0ffee",
        grants=[(RECIPIENTS[i].lower(), hash_token(t)) for i, t in enumerate(tokens)],
    )
    args.update(overrides)
    return store.create_package(**args)
