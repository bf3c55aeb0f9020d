"""A generated Sent folder of Japanese business mail, as Gmail stores what a user sent:
display names in ISO-2022-JP, Shift_JIS, EUC-JP and UTF-8 encoded words (and raw 8-bit
UTF-8, as some clients send), Cc and Bcc, replies carrying References, signatures.

Generated (no public corpus of someone's *sent* Japanese business mail with headers
exists that we may use); the names, companies and domains are invented."""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass

CHARSETS = ("iso-2022-jp", "shift_jis", "euc-jp", "utf-8", "raw")

PEOPLE = [
    ("情報 二郎", "joho-jiro@b-corp.co.jp", "株式会社B"),
    ("山田 太郎", "yamada@b-corp.co.jp", "株式会社B"),
    ("佐藤 花子", "h.sato@c-shoji.co.jp", "C商事株式会社"),
    ("木村 健一", "kimura@d-kogyo.co.jp", "D工業株式会社"),
    ("髙橋 﨑子", "takahashi@e-ginko.co.jp", "株式会社E銀行"),
    ("渡辺 真理", "m.watanabe@f-sekkei.jp", "有限会社F設計"),
    ("Smith John", "john.smith@globex.example.com", "Globex Inc."),
    ("鈴木 一郎", "suzuki-i@a-sys.co.jp", ""),       # a colleague: internal
]


def encoded_word(text: str, charset: str) -> str:
    if charset == "raw":
        return text
    try:
        data = text.encode(charset)
    except UnicodeEncodeError:        # 髙, 﨑 are outside JIS X 0208: mailers use UTF-8
        charset, data = "utf-8", text.encode("utf-8")
    return f"=?{charset.upper()}?B?{base64.b64encode(data).decode()}?="


@dataclass(frozen=True)
class Sent:
    raw: bytes
    message_id: str
    recipients: tuple[str, ...]


def sent_message(i: int, sender: str, rng: random.Random) -> Sent:
    """The ``i``-th message ``sender`` sent: To one person (with their company in the
    display name now and then), sometimes a Cc and a Bcc, every fifth a reply."""
    name, addr, org = PEOPLE[i % len(PEOPLE)]
    charset = CHARSETS[i % len(CHARSETS)]
    shown = f"{org} {name}" if org and i % 3 == 0 else name
    to = f"{encoded_word(shown, charset)} <{addr}>"
    recipients = [addr]
    lines = [f"From: {encoded_word('鈴木 一郎', 'iso-2022-jp')} <{sender}>", f"To: {to}"]
    if i % 4 == 1:
        cname, caddr, _ = PEOPLE[(i + 1) % len(PEOPLE)]
        lines.append(f"Cc: {encoded_word(cname, CHARSETS[(i + 2) % 4])} <{caddr}>")
        recipients.append(caddr)
    if i % 7 == 3:
        lines.append("Bcc: archive@a-sys.co.jp")
        recipients.append("archive@a-sys.co.jp")
    mid = f"<sent-{i}-{rng.randrange(10**9)}@a-sys.co.jp>"
    lines.append(f"Subject: {encoded_word(f'資料送付の件（第{i}版）', 'iso-2022-jp')}")
    lines.append(f"Date: Mon, 02 Nov 2026 {9 + i % 9:02d}:{i % 60:02d}:00 +0900")
    lines.append(f"Message-ID: {mid}")
    if i % 5 == 4:
        lines.append(f"In-Reply-To: <recv-{i}@{addr.partition('@')[2]}>")
        lines.append(f"References: <recv-{i}@{addr.partition('@')[2]}>")
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
              "Content-Transfer-Encoding: 8bit"]
    body = (f"{org}\n{name}様\n\nいつもお世話になっております。\nA社システム部の鈴木です。\n\n"
            "資料をお送りします。\nよろしくお願いいたします。\n\n--\n株式会社A 鈴木 一郎\n")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body.encode("utf-8")
    return Sent(raw, mid, tuple(recipients))


def sent_folder(n: int, sender: str, seed: int = 14) -> list[Sent]:
    rng = random.Random(seed)
    return [sent_message(i, sender, rng) for i in range(n)]
