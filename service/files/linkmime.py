"""Take a message's attachments out (link mode): each goes, sealed, into the file store;
the message keeps its body and headers and gets one short inline note, in the
message's language, naming the files and saying that each recipient gets a separate
notice. The attachments are found and decoded exactly as for the ZIP
(``service.protect.mime``), so the same parts count as attachments either way.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email import policy as email_policy
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from typing import cast

from service.errors import AttachmentError
from service.i18n import _, current_locale, translator
from service.protect.mime import _replace_parts, _taker, open_attachments

_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff\uff66-\uff9f]")


@dataclass(frozen=True)
class Extracted:
    message: bytes
    names: list[str]
    language: str


def message_language(msg: Message, default: str = "en") -> str:
    """"ja" when the subject or a text body holds Japanese, else ``default``."""
    sample = str(msg.get("subject", ""))
    for part in msg.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            try:
                sample += str(cast(EmailMessage, part).get_content())[:4000]
            except (LookupError, KeyError, ValueError):
                continue
    return "ja" if _JAPANESE.search(sample) else default


def note_text(names: Sequence[str], language: str) -> str:
    """The note that replaces the attachments, in the message's own language."""
    lines = [translator(language).gettext("files.link_note"), ""]
    lines += [f"・{n}" if language == "ja" else f"- {n}" for n in names]
    return "\n".join(lines) + "\n"


def extract_attachments(raw: bytes, store_file: Callable[[int, str, bytes], None], *,
                        blocked_extensions: Sequence[str] = (),
                        max_size: int | None = None) -> Extracted:
    """``store_file(n, name, data)`` for each attachment, in order; then the message
    without them, with the note where the first one was."""
    msg, blobs, out_policy, found, names = open_attachments(raw, blocked_extensions)
    language = message_language(msg, current_locale())
    total = 0
    for n, (name, (_cid, part)) in enumerate(zip(names, found, strict=True)):
        body = _taker(part, out_policy, blobs)()
        total += len(body)
        if max_size is not None and total > max_size:
            raise AttachmentError(_("protect.too_large", size=total, mb=total / 2**20,
                                       limit_mb=max_size / 2**20))
        store_file(n, name, body)
        del body
    note = EmailMessage(policy=email_policy.default)
    note.set_content(note_text(names, language), charset="utf-8")
    del note["MIME-Version"]
    note["Content-Disposition"] = "inline"
    _replace_parts(msg, found, note)
    out = io.BytesIO()
    BytesGenerator(out, policy=out_policy).flatten(msg)
    return Extracted(blobs.restore(out.getvalue()), names, language)
