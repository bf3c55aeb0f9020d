"""Rebuild ``ja.mbox``: ordinary Japanese business mail, to the right people.

    python benchmarks/corpus/build_ja.py

No public corpus of Japanese business mail exists, so these are written after the
structure of published templates (宛名, 挨拶, 用件, 添付の案内, 結び, 署名; the subject naming
the document and the month), not copied from them:
- 見積書送付: https://www.yayoi-kk.co.jp/seikyusho/oyakudachi/quotation-mirror/ ,
  https://aippearnet.com/column/?p=1863
- 請求書送付: https://www.yayoi-kk.co.jp/seikyusho/oyakudachi/billing-statement-06 ,
  https://biz.moneyforward.com/invoice/basic/50795 , https://attovas.com/column/5582.php
- 返信の引用: Outlook (日本語版) の "-----Original Message-----" / 差出人: 送信日時: 宛先:
  CC: 件名: ブロック、Gmail の "2025年6月2日(月) 10:00 佐藤 花子 <…>:" と "> " 引用。
Every company, person and address is made up (seeded, so the file is reproducible).
Internal domain ``minato-sangyo.co.jp``; trusted partner ``kaihatsu-partner.co.jp``.
"""

from __future__ import annotations

import io
import random
import sys
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path

INTERNAL = "minato-sangyo.co.jp"
PARTNER = "kaihatsu-partner.co.jp"
CUSTOMERS = [("株式会社青葉商事", "aoba-shoji.co.jp"), ("北星電機株式会社", "hokusei-denki.co.jp"),
             ("有限会社みどり設計", "midori-sekkei.jp"), ("株式会社東和物流", "towa-logi.co.jp"),
             ("桜台システム株式会社", "sakuradai-sys.co.jp"), ("株式会社浜松精工", "hamamatsu-seiko.co.jp")]
SURNAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
GIVEN = ["花子", "一郎", "美咲", "健太", "由美", "大輔", "真理", "翔太"]
ROMA = {"佐藤": "sato", "鈴木": "suzuki", "高橋": "takahashi", "田中": "tanaka", "伊藤": "ito",
        "渡辺": "watanabe", "山本": "yamamoto", "中村": "nakamura", "小林": "kobayashi",
        "加藤": "kato", "花子": "hanako", "一郎": "ichiro", "美咲": "misaki", "健太": "kenta",
        "由美": "yumi", "大輔": "daisuke", "真理": "mari", "翔太": "shota"}
DISCLAIMER = ("本メールには機密情報が含まれている場合があります。本メールの宛先に心当たりのない方は、"
              "誠に恐れ入りますが送信者までご連絡のうえ、本メールを削除してください。")
DISCLAIMER_EN = ("This e-mail may contain confidential and/or privileged information. If you "
                 "are not the intended recipient, please notify the sender and delete it.")


class Person:
    def __init__(self, rnd: random.Random, company: str, domain: str) -> None:
        self.sur, self.given = rnd.choice(SURNAMES), rnd.choice(GIVEN)
        self.company, self.domain = company, domain
        self.address = f"{ROMA[self.given][0]}-{ROMA[self.sur]}@{domain}"
        self.phone = f"03-{rnd.randint(3000, 6999)}-{rnd.randint(1000, 9999)}"

    @property
    def name(self) -> str:
        return f"{self.sur} {self.given}"

    def header(self) -> str:
        return formataddr((self.name, self.address))

    def signature(self) -> str:
        return ("――――――――――――――――――\n"
                f"{self.company}\n{self.name}\nTEL: {self.phone}  FAX: {self.phone[:-4]}0000\n"
                f"E-mail: {self.address}\n――――――――――――――――――")


def pdf(title: str) -> bytes:
    """A one-page PDF (reportlab, a test dependency) whose text is ``title``."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)
    c.drawString(72, 720, title)
    c.save()
    return buf.getvalue()


def xlsx(rnd: random.Random, customer: str, seller: Person) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["請求書", customer + " 御中"])
    ws.append(["発行元", seller.company, "TEL", seller.phone])
    ws.append(["品目", "数量", "単価", "金額"])
    for item in ("保守サービス", "ライセンス", "作業費"):
        q, p = rnd.randint(1, 10), rnd.randint(5, 90) * 1000
        ws.append([item, q, p, q * p])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def quote_outlook(p: Person, to: list[Person], cc: list[Person], subject: str,
                  body: str) -> str:
    lines = ["-----Original Message-----", f"差出人: {p.name} <{p.address}>",
             "送信日時: 2025年6月2日 10:15", "宛先: " + "; ".join(x.header() for x in to)]
    if cc:
        lines.append("CC: " + "; ".join(x.header() for x in cc))
    lines += [f"件名: {subject}", "", body]
    return "\n".join(lines)


def quote_gmail(p: Person, body: str) -> str:
    head = f"2025年6月2日(月) 10:15 {p.name} <{p.address}>:"
    return head + "\n" + "\n".join("> " + line for line in body.split("\n"))


def build(seed: int = 18) -> list[EmailMessage]:
    rnd = random.Random(seed)
    mails: list[EmailMessage] = []
    me_all = [Person(rnd, "港産業株式会社", INTERNAL) for _ in range(6)]

    def mail(me: Person, to: list[Person], subject: str, body: str, *, cc: Sequence[Person] = (),
             files: Sequence[tuple[str, str, bytes]] = (), reply: bool = False,
             disclaimer: str | None = None) -> None:
        msg = EmailMessage()
        msg["From"] = me.header()
        msg["To"] = ", ".join(p.header() for p in to)
        if cc:
            msg["Cc"] = ", ".join(p.header() for p in cc)
        msg["Subject"] = subject
        msg["Date"] = "Mon, 02 Jun 2025 11:00:00 +0900"
        msg["Message-ID"] = f"<ja{len(mails):04d}@{INTERNAL}>"
        if reply:
            msg["In-Reply-To"] = f"<prev{len(mails):04d}@{to[0].domain}>"
        text = body + "\n\n" + me.signature()
        if disclaimer:
            text += "\n\n" + disclaimer
        msg.set_content(text)
        for name, ctype, data in files:
            main, sub = ctype.split("/")
            msg.add_attachment(data, maintype=main, subtype=sub, filename=name)
        mails.append(msg)

    for i in range(120):
        kind = i % 12
        me = rnd.choice(me_all)
        company, domain = rnd.choice(CUSTOMERS)
        cust = Person(rnd, company, domain)
        cust2 = Person(rnd, company, domain)
        month = rnd.randint(1, 12)
        greet = f"{company}\n{cust.name}様\n\nいつもお世話になっております。\n港産業の{me.sur}です。\n\n"
        close = "\n\nご確認のほど、よろしくお願いいたします。"
        disc = rnd.choice([None, None, DISCLAIMER, DISCLAIMER_EN])
        if kind == 0:
            mail(me, [cust], f"【見積書送付】{month}月分 保守サービスのお見積り",
                 greet + "先日ご依頼いただきました保守サービスのお見積書を添付にてお送りいたします。"
                 "\n有効期限は発行日より30日間となっております。" + close,
                 files=[(f"見積書_{company}_{month}月.pdf", "application/pdf", pdf("Quotation"))],
                 disclaimer=disc)
        elif kind == 1:
            mail(me, [cust], f"{month}月分請求書送付のご案内",
                 greet + f"{month}月分の請求書を添付にてお送りいたします。\nお支払期日：翌月末日\n"
                 "振込先：みなと銀行 本店 普通 1234567" + close, cc=[rnd.choice(me_all)],
                 files=[(f"請求書_{month}月分.xlsx", "application/vnd.openxmlformats-"
                         "officedocument.spreadsheetml.sheet", xlsx(rnd, company, me))],
                 disclaimer=disc)
        elif kind == 2:
            mail(me, [cust], "打ち合わせ日程のご相談",
                 greet + "次回の打ち合わせについて、下記の日程でご都合はいかがでしょうか。\n"
                 f"・{month}月10日(火) 14:00〜15:00\n・{month}月12日(木) 10:00〜11:00"
                 "\n\nご都合のよい日時をお知らせいただけますと幸いです。", disclaimer=disc)
        elif kind == 3:       # reply, Outlook ja quote with the customer's signature
            earlier = (f"{me.sur}様\n\nお世話になっております。\n資料を拝見しました。"
                       f"いくつか質問がございます。\n\n{cust.signature()}")
            mail(me, [cust], "RE: 資料のご確認",
                 greet + "ご質問ありがとうございます。回答を以下にまとめました。\n1. 納期は約2週間です。"
                 + close + "\n\n" + quote_outlook(cust, [me], [cust2], "資料のご確認", earlier),
                 cc=[cust2], reply=True, disclaimer=disc)
        elif kind == 4:       # reply-all, Gmail ja quote
            earlier = f"{me.sur}様\n\n議事録を拝受しました。ありがとうございます。\n\n{cust.signature()}"
            mail(me, [cust], "Re: 定例会議の議事録",
                 f"{cust.name}様\n\nご確認ありがとうございます。\n次回もよろしくお願いいたします。"
                 + "\n\n" + quote_gmail(cust, earlier), reply=True)
        elif kind == 5:       # customer + trusted partner together
            partner = Person(rnd, "開発パートナー株式会社", PARTNER)
            mail(me, [cust], "システム導入キックオフのご案内",
                 greet + "導入作業を担当する開発パートナー社の" + partner.name + "様をCCに入れております。"
                 f"\nキックオフは{month}月15日 13:00より貴社会議室にて行います。" + close,
                 cc=[partner], disclaimer=disc)
        elif kind == 6:       # internal, confidential, with an attachment
            colleague = rnd.choice(me_all)
            mail(me, [colleague], "【社外秘】来期予算案",
                 f"{colleague.sur}さん\n\nお疲れさまです。来期予算案を添付します。社外秘の扱いでお願いします。",
                 files=[("来期予算案.xlsx", "application/vnd.openxmlformats-officedocument"
                         ".spreadsheetml.sheet", xlsx(rnd, "港産業", me))])
        elif kind == 7:       # internal meeting minutes with a member list
            team = rnd.sample(me_all, 4)
            mail(me, team, "週次定例の議事録",
                 "各位\n\nお疲れさまです。本日の議事録です。\n\n出席者：" + "、".join(p.name for p in team)
                 + "\n決定事項：次回リリースは来月第2週。")
        elif kind == 8:       # forward of a partner's message back into the same thread
            earlier = f"{me.sur}様\n\n仕様書を送付いたします。\n\n{cust.signature()}"
            mail(me, [cust, cust2], "RE: 仕様書の件",
                 greet + "仕様書、確かに受領いたしました。社内で確認のうえご連絡いたします。"
                 + "\n\n" + quote_outlook(cust, [me, cust2], [], "仕様書の件", earlier), reply=True)
        elif kind == 9:       # two customers who already wrote together (joint project)
            other_company, other_domain = rnd.choice([c for c in CUSTOMERS if c[1] != domain])
            other = Person(rnd, other_company, other_domain)
            earlier = f"皆様\n\n共同案件の進め方について共有します。\n\n{other.signature()}"
            mail(me, [cust, other], "RE: 共同案件の進め方",
                 f"{cust.name}様\n{other.name}様\n\nお世話になっております。承知いたしました。"
                 + "\n\n" + quote_outlook(other, [me, cust], [], "共同案件の進め方", earlier),
                 reply=True, disclaimer=disc)
        elif kind == 10:      # thanks after a visit, customer plus colleague
            mail(me, [cust], "本日のご面談のお礼",
                 greet + "本日はお忙しいところお時間をいただき、誠にありがとうございました。"
                 "\nご提案内容につきまして、改めて資料をお送りいたします。" + close,
                 cc=[rnd.choice(me_all)], disclaimer=disc)
        else:                 # delivery note with a PDF to two people of the customer
            mail(me, [cust, cust2], f"納品書送付のご案内（{month}月）",
                 greet + f"{month}月納品分の納品書を添付にてお送りいたします。" + close,
                 files=[(f"納品書_{month}月.pdf", "application/pdf", pdf("Delivery note"))],
                 disclaimer=disc)
    return mails


def main() -> int:
    out = Path(__file__).with_name("ja.mbox")
    with out.open("wb") as f:
        for msg in build():
            f.write(b"From corpus@localhost Thu Jan  1 00:00:00 1970\n")
            data = msg.as_bytes().replace(b"\r\n", b"\n")
            f.write(data.replace(b"\nFrom ", b"\n>From ").rstrip(b"\n") + b"\n\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
