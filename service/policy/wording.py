"""What the sender wrote themselves (SPEC 10.1 ``missing_attachment``, SPEC 10.6 quiet
content checks), and whether it says a file is attached.

``split_body`` separates the sender's own text from quoted/forwarded text: the kept
library quotequail (MIT) finds the quoted blocks of ``>`` quoting, "On … wrote:",
Outlook's "-----Original Message-----" and "From: … Sent: …" forms; the patterns below add
the Japanese mailers' forms (差出人:, …さんは書きました, 2025年6月2日(月) … <a@b>:) that it
does not know. Known disclaimer footers (ja/en, plus policy ``content.ignore_patterns``)
are dropped paragraph by paragraph.

Quoted reply text is not the sender's: lines starting with ``>``, and everything from the
first reply or forward header on (Gmail's "On … wrote:", Japanese "…さんは書きました:",
Outlook's "-----Original Message-----" and "From:/差出人:" blocks, forward banners), and a
signature after ``-- ``. In HTML, ``<blockquote>`` and Gmail's ``gmail_quote`` block.

A phrase counts only when it is not denied nearby (添付なし, no attachment) and is not
the stock disclaimer wording (本メール及び添付ファイル…, this e-mail and any
attachments…), which says nothing about this message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from service.policy.model import Draft

MAX_QUOTE_LINES = 5000       # quotequail looks at this many lines; the rest is quoted

_REPLY_HEADER = re.compile(
    r"^(?:"
    r"On .{1,200}\bwrote:\s*$"                           # Gmail / Apple Mail (en)
    r"|.{1,200}(?:さんは|さんが)書きました[:：]?\s*$"       # Gmail (ja)
    r"|.{0,200}\d{4}年\d{1,2}月\d{1,2}日.{0,80}(?:書きました|wrote)[:：]?\s*$"
    r"|.{0,40}\d{4}年\d{1,2}月\d{1,2}日.{0,120}<[^<>\s]+@[^<>\s]+>\s*[:：]\s*$"  # Gmail (ja)
    r"|-{2,}\s*(?:Original Message|元のメッセージ|Forwarded message|転送されたメッセージ"
    r"|Forwarded Message)\s*-{2,}\s*$"
    r"|(?:From|差出人|送信者)\s*[:：].{1,300}$"                # Outlook's header block
    r"|-- \s*$"                                          # signature separator
    r")", re.M | re.I)
_QUOTED_LINE = re.compile(r"^[ \t]*[>＞|｜].*$\n?", re.M)
_GMAIL_QUOTE = re.compile(r"<div[^>]*class=[\"']?[^\"'>]*gmail_quote.*", re.S | re.I)
_BLOCKQUOTE = re.compile(r"<blockquote\b.*?</blockquote\s*>", re.S | re.I)


@dataclass(frozen=True)
class Body:
    own: str          # what the sender wrote in this message
    quoted: str       # quoted or forwarded text from earlier messages


def own_text(draft: Draft) -> str:
    """The sender's own words: the plain-text body (else the HTML's text) up to the
    first quoted block, without quoted lines."""
    return split_body(draft).own


def split_body(draft: Draft) -> Body:
    """The body as the sender's own text and the quoted text of earlier messages."""
    if draft.text.strip():
        return split_text(draft.text)
    if draft.html:
        from service.policy.extract import html_text

        quoted: list[str] = []

        def cut(m: re.Match[str]) -> str:
            quoted.append(m.group())
            return " "

        markup = _BLOCKQUOTE.sub(cut, _GMAIL_QUOTE.sub(cut, draft.html))
        body = split_text(html_text(markup))
        return Body(body.own, "\n".join([body.quoted, *(html_text(q) for q in quoted)]))
    return Body("", "")


def split_text(text: str) -> Body:
    text = text.replace("\r\n", "\n")
    own, quoted = text, ""
    if "\n" in text.strip():
        from service.policy.quotes import quote

        lines = text.count("\n") + 1
        parts = quote(text, limit=MAX_QUOTE_LINES)
        own = "\n".join(t for mine, t in parts if mine)
        quoted = "\n".join(t for mine, t in parts if not mine)
        if lines > MAX_QUOTE_LINES:        # quotequail saw only the first lines
            own, quoted = "\n".join(text.split("\n")[:MAX_QUOTE_LINES]), quoted
    m = _REPLY_HEADER.search(own)
    if m is not None:
        own, quoted = own[:m.start()], own[m.start():] + "\n" + quoted
    lines_quoted = "".join(_QUOTED_LINE.findall(own))
    own = _QUOTED_LINE.sub("", own)
    return Body(own, (lines_quoted + quoted).strip("\n"))


def strip_quoted(text: str) -> str:
    return split_text(text).own


# --- disclaimer footers (SPEC 10.6) -----------------------------------------------

# A paragraph with one of these says what to do with a mail received by mistake, or that
# the mail is confidential in the abstract: boilerplate, not content.
DISCLAIMERS = (
    r"intended (?:solely |only |exclusively )?(?:for )?(?:the )?(?:use of the )?"
    r"(?:named )?(?:individual|addressee|recipient|person|entity)",
    r"\bintended recipient",
    r"received (?:this|the) (?:e-?mail|message|communication|transmission)[^.]{0,40}"
    r"(?:in error|by mistake)",
    r"confidentiality (?:notice|note|statement)",
    r"\bdisclaimer\s*[:：]",
    r"(?:本|この|当)(?:電子)?メール.{0,80}(?:誤って|誤送信|お心当た|心当たり|宛先.{0,10}(?:違|間違)"
    r"|受信者以外|宛先以外|名宛人以外)",
    r"(?:誤って|誤送信|お心当たり|心当たり).{0,60}(?:削除|破棄|ご連絡|お知らせ)",
    r"(?:機密|秘密)保持.{0,10}(?:のお願い|に関する|通知|注意)",
)
_DISCLAIMER = re.compile("|".join(DISCLAIMERS), re.I | re.S)
_PARAGRAPH = re.compile(r"\n[ \t\u3000]*\n")


def without_boilerplate(text: str, extra: tuple[str, ...] = ()) -> str:
    """``text`` without the paragraphs that are disclaimer footers: the built-in ja/en
    patterns and the policy's ``content.ignore_patterns``."""
    if not text:
        return text
    extra_re = re.compile("|".join(f"(?:{p})" for p in extra), re.I | re.S) if extra else None
    kept = []
    for para in _PARAGRAPH.split(text):
        folded = unicodedata.normalize("NFKC", para)
        folded = " ".join(folded.split()) if "\n" in folded else folded
        if _DISCLAIMER.search(folded) or (extra_re is not None and (
                extra_re.search(folded) or extra_re.search(para))):
            continue
        kept.append(para)
    return "\n\n".join(kept)


# Phrases that say "a file is attached" (after NFKC + case folding). Japanese words name
# the act itself; an English word is only a mention unless the sentence says *this* mail
# carries it ("I attached", "attached is", "please find … attached", "see the attached",
# "the report is attached", "the attached file", "Attachment:"): "Geege attached the
# following message", "tag values enclosed in quotes" or "a tutorial attached to each day"
# say nothing about this mail. A subject is a label: the bare word counts there.
_PHRASES = re.compile(r"添付ファイル|添付資料|添付|別添|同封|送付(?:します|いたします|致します)")
_EN_WORD = re.compile(r"\battach(?:ed|ing|ment|ments)?\b|\benclos(?:e|ed|ing|ure)\b", re.I)
_EN_SUBJECT = re.compile(r"\battach(?:ed|ing|ment|ments)?\b|\benclos(?:ed|ure)\b", re.I)
_EN_NOUN = (r"(?:file|document|doc|spreadsheet|sheet|workbook|memo|report|draft|copy|version"
            r"|list|letter|agreement|contract|presentation|schedule|form|invoice|proposal|pdf"
            r"|summary|notes|agenda|minutes|picture|photo|image|resume|cv|slides?|deck|table)s?")
_EN_FRAMED = re.compile(
    r"\b(?:i|we)(?:'ve|'m|'re|'ll| have| am| are| will| had)?\s+(?:just\s+|also\s+|now\s+)?"
    r"(?:attach(?:ed|ing)?|enclos(?:e|ed|ing))\b"
    r"|(?:^|[.!?:]\s+|\n\s*)(?:attached|enclosed|attaching)\b"
    r"|\b(?:please\s+|kindly\s+)?(?:find|see|review|open|check|refer to)\s+"
    r"(?:[\w'-]+\s+){0,4}?(?:attached|enclosed|attachments?)\b"
    r"|\b(?:is|are)\s+(?:also\s+)?(?:attached|enclosed)\b"
    r"|\b(?:send|sending|forward|forwarding)\s+(?:you\s+)?(?:the\s+)?(?:attached|enclosed)\b"
    r"|\b(?:the|this|these|my|our)\s+(?:attached|enclosed)\s+" + _EN_NOUN + r"\b"
    r"|\battach(?:ed|ments?)\s*[:：]", re.I | re.M)
# Nearby words that deny it (within the same short stretch after or before the phrase).
_DENIAL_AFTER = re.compile(
    r"^[^。.!?！？\n]{0,12}?(?:ありません|ございません|ない|無い|なし|無し|不要|しません|を含|含め"
    r"|しておりません|していません|できません|できなかった|忘れ|漏れ|後ほど|後日|別途|別メール"
    r"|will follow|to follow|later|separately|not\b|n't\b|:\s*none)", re.I)
_DENIAL_BEFORE = re.compile(
    r"(?:\bno|\bwithout|\bnot|n't|\bany|\ban|\band|\bits|\bor|及び|および|並びに|ならびに|や|前回|先日"
    r"|昨日|以前)\s*(?:an?\s+|the\s+|its\s+|any\s+)?$"
    r"|郵送|郵便|別便|宅配|書留|ファックス|ＦＡＸ|fax|by post|by mail", re.I)


def mentions_attachment(text: str, *, subject: bool = False) -> str | None:
    """The first phrase in ``text`` that says a file is attached, or None (``subject``:
    an English word alone counts, see ``_EN_FRAMED``)."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold()
    spans = [m.span() for m in _PHRASES.finditer(folded)]
    for m in (_EN_SUBJECT if subject else _EN_FRAMED).finditer(folded):
        word = _EN_WORD.search(folded, m.start(), m.end())   # the word within its frame
        if word is not None:
            spans.append(word.span())
    for start, end in sorted(spans):
        before = folded[max(0, start - 12):start]
        after = folded[end:end + 40]
        if _DENIAL_BEFORE.search(before) or _DENIAL_AFTER.match(after):
            continue
        return text_at(text, folded, start, end)
    return None


def text_at(text: str, folded: str, start: int, end: int) -> str:
    """The phrase as the sender wrote it (folding may shift offsets: fall back to it)."""
    if len(text) == len(folded):
        return text[start:end]
    return folded[start:end]
