"""Helpers for the Gmail tests: raw messages, test users, a recording sleep."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage


def message(*, to: str = "bob@example.org", cc: str = "", bcc: str = "",
            subject: str = "Quarterly report", body: str = "Hello Bob,\nsee attached.\n",
            sender: str = "alice@sendguard.example",
            attachments: tuple[tuple[str, str, bytes], ...] = ()) -> bytes:
    """A raw RFC 822 message as Gmail's compose window would save it."""
    msg = EmailMessage()
    msg["From"] = sender
    if to:
        msg["To"] = to
    if cc:
        msg["Cc"] = cc
    if bcc:
        msg["Bcc"] = bcc
    msg["Subject"] = subject
    msg.set_content(body)
    for name, ctype, data in attachments:
        main, _, sub = ctype.partition("/")
        msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return bytes(msg)


@dataclass(frozen=True)
class User:
    email: str
    token: str


class Sleeps(list[float]):
    """Stands in for time.sleep: records the pauses instead of waiting them out."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
