"""``missing_attachment`` wording (SPEC 10.1, quiet per 10.6): an English sentence says
*this* mail carries a file, or it only mentions the word. The negative rows are sentences
of the SpamAssassin easy-ham corpus (benchmarks/corpus/en.mbox) that interrupted before."""

from __future__ import annotations

import pytest

from service.policy.wording import mentions_attachment

SAYS_ATTACHED = [
    ("please-find-attached", "Please find attached the revised schedule.", "attached"),
    ("find-noun-attached", "Please find the agenda attached.", "attached"),
    ("attached-is", "Attached is the draft agreement for your review.", "Attached"),
    ("attached-sentence-start", "Hi John,\nAttached the figures you asked for.", "Attached"),
    ("enclosed-is", "Enclosed is the invoice.", "Enclosed"),
    ("i-attached", "I've attached the spreadsheet.", "attached"),
    ("we-are-attaching", "We are attaching the signed copy.", "attaching"),
    ("i-enclose", "I enclose our price list.", "enclose"),
    ("see-attached", "See attached.", "attached"),
    ("see-the-attached-file", "Please see the attached file for details.", "attached"),
    ("is-attached", "The final version is attached.", "attached"),
    ("are-also-attached", "The minutes are also attached.", "attached"),
    ("the-attached-memo", "Comments on the attached memo are welcome.", "attached"),
    ("attachment-label", "Attachment: Q3 forecast", "Attachment"),
    ("sending-the-attached", "I am sending you the attached for comment.", "attached"),
    ("review-attachments", "Please review the attachments before Friday.", "attachments"),
    ("ja-attach", "見積書を添付いたします。", "添付"),
    ("ja-soufu", "契約書を送付します。", "送付します"),
]

ONLY_MENTIONS = [
    ("someone-else-attached", "Geege attached the following message:"),
    ("third-party-enclosed", "replied the local party manager, who enclosed an application"),
    ("enclosed-in-quotes", "4. tag argument values sometimes enclosed in \"\", sometimes not"),
    ("abstract-attachment", "a good place to insert a Zen quote about attachment"),
    ("attached-to-each-day", "each day having its own mini-tutorial attached, and much better"),
    ("emotional-attachment", "I have no emotional attachment to that code."),
    ("denied", "No attachment this time."),
    ("disclaimer", "This e-mail and any attachments are confidential."),
    ("later", "The file is attached separately."),
    ("ja-by-post", "請求書は郵送にて送付します。"),
]


@pytest.mark.parametrize(("text", "phrase"), [c[1:] for c in SAYS_ATTACHED],
                         ids=[c[0] for c in SAYS_ATTACHED])
def test_says_a_file_is_attached(text: str, phrase: str) -> None:
    assert mentions_attachment(text) == phrase


@pytest.mark.parametrize("text", [c[1] for c in ONLY_MENTIONS], ids=[c[0] for c in ONLY_MENTIONS])
def test_only_mentions_the_word(text: str) -> None:
    assert mentions_attachment(text) is None


@pytest.mark.parametrize(("subject", "phrase"), [
    ("Report attached", "attached"),
    ("Attachment: invoice", "Attachment"),
    ("【添付ファイル】請求書", "添付ファイル"),
])
def test_a_subject_is_a_label(subject: str, phrase: str) -> None:
    assert mentions_attachment(subject, subject=True) == phrase
    if phrase == "attached":             # the same words in a body are only a mention
        assert mentions_attachment(subject) is None


def test_empty() -> None:
    assert mentions_attachment("") is None and mentions_attachment("", subject=True) is None
