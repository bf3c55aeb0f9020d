"""service.policy.quotes gives quotequail's own answer: on every body of the public English
corpus (SpamAssassin easy-ham, benchmarks/corpus/en.mbox) and the Japanese one, at the
service's limit and at small limits, and on the pattern families and edges below."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
import quotequail

from service.policy import draft_from_bytes
from service.policy.quotes import quote
from service.policy.wording import MAX_QUOTE_LINES

CORPUS = Path(__file__).resolve().parents[2] / "benchmarks" / "corpus"


def bodies(name: str) -> list[str]:
    box = mailbox.mbox(str(CORPUS / name), create=False)
    try:
        texts = [draft_from_bytes(m.as_bytes()).text for m in box]
    finally:
        box.close()
    return [t.replace("\r\n", "\n") for t in texts if t.strip()]


@pytest.mark.parametrize("name", ["en.mbox", "ja.mbox"])
def test_same_split_as_quotequail_on_the_corpora(name: str) -> None:
    texts = bodies(name)
    assert len(texts) > 150
    quoted = 0
    for text in texts:
        for limit in (MAX_QUOTE_LINES, 12, 1):
            assert quote(text, limit=limit) == quotequail.quote(text, limit=limit), text[:300]
        quoted += len(quote(text, limit=MAX_QUOTE_LINES)) == 2
    assert quoted > 20, "the corpora's replies have quoted parts: the cases were compared"


OWN = "Thanks, see below.\nTaro"
CASES = {
    "gmail reply": OWN + "\n\nOn Mon, 1 Dec 2026 at 10:00, Hanako <h@b.example> wrote:\n> hi",
    "wrapped reply header": OWN + "\nOn Mon, 1 Dec 2026, Hanako\n<h@b.example> wrote:\n> x",
    "german": OWN + "\nAm 1. Dezember 2026 schrieb Hanako <h@b.example>:\n> hallo",
    "outlook forward line": OWN + "\n________________________________\nFrom: a\nSent: b",
    "original message": OWN + "\n-----Original Message-----\nFrom: a@b.example",
    "forwarded banner": OWN + "\n---------- Forwarded message ---------\nFrom: x",
    "quoted banner": OWN + "\n> Begin forwarded message:\n> From: x",
    "apple forward": "Begin forwarded message:\n\nFrom: x",
    "blank lines only": "\n\n\n",
    "no quote": OWN + "\nnothing quoted here\n",
    "gmail date reply": OWN + "\n2026/12/1 Hanako Sato <h@b.example>\n> quoted",
    "pattern on the last line": OWN + "\nOn Monday Hanako wrote:",
    "crlf kept as text": "a\r\nOn x wrote:\r\n> b",
    "empty": "",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
@pytest.mark.parametrize("limit", [MAX_QUOTE_LINES, 3, 2, 1])
def test_same_split_as_quotequail(text: str, limit: int) -> None:
    assert quote(text, limit=limit) == quotequail.quote(text, limit=limit)


def test_a_quotequail_without_the_internals_read_here_is_used_as_it_is(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from quotequail import _patterns

    from service.policy import quotes

    quotes._internals.cache_clear()
    monkeypatch.delattr(_patterns, "COMPILED_PATTERNS")
    try:
        text = CASES["gmail reply"]
        assert quote(text, limit=MAX_QUOTE_LINES) == quotequail.quote(text, limit=MAX_QUOTE_LINES)
        assert len(quote(text, limit=MAX_QUOTE_LINES)) == 2
    finally:
        quotes._internals.cache_clear()
