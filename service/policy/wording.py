"""What the sender wrote themselves, and whether it says a file is attached (SPEC 10.1
``missing_attachment``).

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

from service.policy.model import Draft

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


def own_text(draft: Draft) -> str:
    """The sender's own words: the plain-text body (else the HTML's text) up to the
    first quoted block, without quoted lines."""
    if draft.text.strip():
        text = draft.text
    elif draft.html:
        from service.policy.rules import html_text

        markup = _BLOCKQUOTE.sub(" ", _GMAIL_QUOTE.sub(" ", draft.html))
        text = html_text(markup)
    else:
        return ""
    return strip_quoted(text)


def strip_quoted(text: str) -> str:
    text = text.replace("\r\n", "\n")
    m = _REPLY_HEADER.search(text)
    if m is not None:
        text = text[:m.start()]
    return _QUOTED_LINE.sub("", text)


# Phrases that say "a file is attached" (after NFKC + case folding).
_PHRASES = re.compile(
    r"添付ファイル|添付資料|添付|別添|同封|送付(?:します|いたします|致します)"
    r"|\battach(?:ed|ing|ment|ments)?\b|\benclos(?:ed|ure)\b", re.I)
# Nearby words that deny it (within the same short stretch after or before the phrase).
_DENIAL_AFTER = re.compile(
    r"^[^。.!?！？\n]{0,12}?(?:ありません|ございません|ない|無い|なし|無し|不要|しません|を含|含め"
    r"|しておりません|していません|できません|できなかった|忘れ|漏れ|後ほど|後日|別途|別メール"
    r"|will follow|to follow|later|separately|not\b|n't\b|:\s*none)", re.I)
_DENIAL_BEFORE = re.compile(
    r"(?:\bno|\bwithout|\bnot|n't|\bany|\ban|\band|\bits|\bor|及び|および|並びに|ならびに|や|前回|先日"
    r"|昨日|以前)\s*(?:an?\s+|the\s+|its\s+|any\s+)?$"
    r"|郵送|郵便|別便|宅配|書留|ファックス|ＦＡＸ|fax|by post|by mail", re.I)


def mentions_attachment(text: str) -> str | None:
    """The first phrase in ``text`` that says a file is attached, or None."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold()
    for m in _PHRASES.finditer(folded):
        before = folded[max(0, m.start() - 12):m.start()]
        after = folded[m.end():m.end() + 40]
        if _DENIAL_BEFORE.search(before) or _DENIAL_AFTER.match(after):
            continue
        return text_at(text, folded, m)
    return None


def text_at(text: str, folded: str, m: re.Match[str]) -> str:
    """The phrase as the sender wrote it (folding may shift offsets: fall back to it)."""
    if len(text) == len(folded):
        return text[m.start():m.end()]
    return m.group()
