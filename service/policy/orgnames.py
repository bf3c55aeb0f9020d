"""Organisation names in display names and greeting blocks (SPEC 10.2: "organisation
names seen in display names and signatures"), reduced for equality.

``株式会社B 情報課 山田様``, ``山田 太郎（C商事株式会社）``, ``(株)D工業 木村``: the company
is the token carrying a legal form (株式会社, 有限会社, 合同会社, (株), ㈱, 社団/財団法人,
…, and Inc./Co., Ltd./Corporation/LLC in parentheses). Its key drops the legal form,
spaces and width differences, so ``株式会社Ｂ`` and ``B株式会社`` are one company ``b``.
Anything without a legal form (a department, a person, a bare brand) is not a company
here: unsure means no name, so the check stays quiet.

Pure: no Flask, network or database.
"""

from __future__ import annotations

import re
import unicodedata

# Legal forms, longest first; written before or after the name.
_FORMS = ("一般社団法人", "公益社団法人", "一般財団法人", "公益財団法人", "独立行政法人",
          "国立大学法人", "特定非営利活動法人", "株式会社", "有限会社", "合同会社", "合資会社",
          "合名会社", "社団法人", "財団法人", "医療法人", "学校法人", "(株)", "(有)", "(合)",
          "㈱", "㈲")
_FORM = re.compile("|".join(re.escape(f) for f in _FORMS))
_EN_FORM = re.compile(r"\b(?:inc|corp|corporation|co\.?,?\s*ltd|ltd|llc|gmbh|k\.?k)\.?$",
                      re.I)
_PAREN = re.compile(r"[(（]([^()（）]{2,60})[)）]")
_SPLIT = re.compile(r"[\s\u3000/／|｜,，、]+")
_DROP = re.compile(r"[\s\u3000・･.,，、'\"“”‘’]+")
# Words that follow a company name in a display name or greeting, never part of it.
_AFTER = re.compile(r"(御中|様|殿|さま|各位)$")
MAX_NAMES = 4


def org_key(text: str) -> str:
    """``株式会社Ｂ`` / ``B株式会社`` / ``(株)B`` -> ``b``; empty when only a legal form."""
    s = unicodedata.normalize("NFKC", text)
    s = _AFTER.sub("", s.strip())
    s = _FORM.sub("", s)
    s = _EN_FORM.sub("", s.strip())
    return _DROP.sub("", s).casefold()


def _with_form(token: str) -> bool:
    return bool(_FORM.search(token))


def org_names(text: str) -> tuple[str, ...]:
    """Company keys named in a display name or one greeting line (at most a few)."""
    s = unicodedata.normalize("NFKC", text or "")
    if "@" in s:
        s = s.split("<")[0]
    found: list[str] = []
    for inner in _PAREN.findall(s):              # 山田 太郎 (C商事株式会社), (Globex Inc.)
        inner = inner.strip()
        if _with_form(inner) or _EN_FORM.search(inner):
            key = org_key(inner)
            if key:
                found.append(key)
    rest = _PAREN.sub(" ", s)
    tokens = [tok for tok in _SPLIT.split(rest) if tok]
    for i, tok in enumerate(tokens):
        if not _with_form(tok):
            continue
        key = org_key(tok)
        if not key and i + 1 < len(tokens):     # "株式会社 B": the form on its own
            key = org_key(tok + tokens[i + 1])
        if key:
            found.append(key)
    return tuple(dict.fromkeys(found))[:MAX_NAMES]


def greeting_org_names(greeting_lines: list[str]) -> tuple[str, ...]:
    """Company keys of a letter's greeting block (the lines before the opening phrase)."""
    out: list[str] = []
    for line in greeting_lines:
        out.extend(org_names(line))
    return tuple(dict.fromkeys(out))[:MAX_NAMES]


_OPENERS = re.compile(r"(お世話になって|いつも|お疲れ様|はじめまして|初めまして|突然の|平素|拝啓)")
_ADDRESSEE = re.compile(r"(様|さま|殿|御中|各位)\s*$")


def greeting_block_orgs(text: str) -> tuple[str, ...]:
    """Companies of a Japanese letter's greeting block: its first lines, before the
    opening phrase (お世話になっております…), each a company line or an addressee line."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n")[:12]:
        line = raw.strip()
        if not line:
            if lines:
                break
            continue
        if _OPENERS.search(line) or len(line) > 40 or len(lines) >= 5:
            break
        if not (_FORM.search(unicodedata.normalize("NFKC", line)) or _ADDRESSEE.search(line)):
            break
        lines.append(line)
    return greeting_org_names(lines)
