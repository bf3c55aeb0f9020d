"""The stamp on every send the add-on makes (SPEC 10.5): minted into the final bytes by
``outgoing`` and recorded in the audit before the send starts (required: a stamp that the
audit does not know would later read as forged, so no record, no send)."""

from __future__ import annotations

import secrets

from service.addon.compose import audit
from service.gmail.headers import addresses, header_values, raw_headers
from service.gmail.outgoing import Outgoing, Stamper
from service.services import services
from service.stamp.header import Minted, mint
from service.stamp.verify import audit_data

MINTED = "stamp.minted"


def new_nonce() -> str:
    return secrets.token_urlsafe(16)          # 128 bits, 22 base64url characters


def stamper_for(user: str) -> Stamper:
    """Mints with the deployment's signing key at the service clock's time; a draft
    without From is signed for ``user`` (Gmail writes the user's address on send)."""
    sv = services()
    keys = sv.stamp_keys

    def stamp(raw: bytes) -> Minted:
        return mint(raw, keys, int(sv.clock().timestamp()), new_nonce(), fallback_sender=user)

    return stamp


def record_stamp(user: str, out: Outgoing, package_id: str | None = None) -> None:
    """``stamp.minted``: nonce, time, key id, sender, recipient hash (and the Bcc list,
    which delivered copies lose) — never the body."""
    minted = out.minted
    if minted is None:
        return
    if not isinstance(minted, Minted):      # stamper_for mints these: anything else is a bug
        raise TypeError(f"unexpected stamp {type(minted).__name__}")
    bcc = addresses(header_values(raw_headers(minted.raw), "Bcc"))
    audit(user, MINTED, required=True, package_id=package_id, message_id=out.message_id,
          data=audit_data(minted.stamp, minted.envelope, bcc))
