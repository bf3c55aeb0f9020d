"""Messages and keys for the stamp tests (no fixture invents a field: plain RFC 5322)."""

from __future__ import annotations

from email import policy as email_policy
from email.message import EmailMessage

from service.stamp.header import Minted, mint
from service.stamp.keys import StampKeys, parse_stamp_keys
from service.stamp.verify import MintRecord, audit_data

KEY_A = "2026a:" + "11" * 32
KEY_B = "2025b:" + "22" * 32
NOW = 1_790_000_000
SENDER = "sato@corp.example.jp"


def keys(value: str = KEY_A) -> StampKeys:
    return parse_stamp_keys(value)


BODY = "田中様\n\n見積書をお送りします。\n"


def message(*, to: str = "tanaka@partner.example.com", cc: str | None = "suzuki@corp.example.jp",
            bcc: str | None = "kiroku@corp.example.jp", body: str = BODY,
            sender: str = f"佐藤 花子 <{SENDER}>", message_id: str = "<m1@corp.example.jp>",
            attachment: bytes | None = None) -> bytes:
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = "見積書の送付"
    msg["Message-ID"] = message_id
    msg["Date"] = "Thu, 03 Dec 2026 09:00:00 +0900"
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="octet-stream",
                           filename="見積書.xlsx")
    return msg.as_bytes()


def nonce(n: int = 1) -> str:
    return f"nonce{n:017d}"


def minted(raw: bytes | None = None, *, n: int = 1, key: str = KEY_A, now: int = NOW) -> Minted:
    return mint(message() if raw is None else raw, keys(key), now, nonce(n))


def record(m: Minted) -> MintRecord:
    from service.gmail.headers import addresses, header_values, raw_headers

    bcc = addresses(header_values(raw_headers(m.raw), "Bcc"))
    rec = MintRecord.from_audit(audit_data(m.stamp, m.envelope, bcc))
    assert rec is not None
    return rec
