"""Interruptions per 100 ordinary mails, and the incident cases that must stay caught
(SPEC 10.6, issue 18).

An interruption is a mail with at least one ``warn`` or ``block`` finding (what makes the
sender stop and tick). Two committed corpora (benchmarks/corpus/README.md):
- ``en.mbox``: real mail, a sample of the SpamAssassin public corpus's easy ham (CC0),
  each message checked as its author's draft (internal = the author's organisation);
- ``ja.mbox``: Japanese business mail written after published templates, to the right
  customers (quotations, invoices, replies with Outlook/Gmail quotes, disclaimers).
Next to them, the incident-modelled cases of /work/shared/seeds (and examples/*.eml): each
must still interrupt with the code named. Prints per-code counts, split internal/external
and with/without attachments; one result line per set and one for the incidents.

    python benchmarks/bench_ordinary_mail.py [--show CODE]   # --show prints the mails
"""

from __future__ import annotations

import argparse
import mailbox
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchlib import result  # noqa: E402

from service.policy.domains import registrable_domain  # noqa: E402
from service.policy.model import Attachment, Draft  # noqa: E402
from service.policy.policyfile import Policy  # noqa: E402

CORPUS = Path(__file__).with_name("corpus")
TARGET = 3.0      # interruptions per 100 ordinary mails (SPEC 10.6)
JA_INTERNAL = "minato-sangyo.co.jp"
JA_TRUSTED = "kaihatsu-partner.co.jp"


@dataclass
class Tally:
    mails: int = 0
    interrupted: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    groups: Counter[str] = field(default_factory=Counter)       # group -> mails
    group_hits: Counter[str] = field(default_factory=Counter)   # group -> interrupted
    shown: list[str] = field(default_factory=list)

    def per100(self, n: int, d: int) -> float:
        return 100.0 * n / d if d else 0.0


def check(raw: bytes, policy_for: Callable[[Draft], Policy], tally: Tally,
          show: str | None, label: str) -> None:
    from service.errors import MessageError
    from service.policy.mimeparse import draft_from_bytes
    from service.policy.rules import analyze, classifier_for

    try:
        draft = draft_from_bytes(raw)
    except MessageError:
        return
    policy = policy_for(draft)
    report = analyze(draft, policy)
    cls = classifier_for(policy)
    external = any(e.address and not cls.is_internal(e.domain or "", e.address)
                   for e in report.recipients)
    group = ("external" if external else "internal") + (
        "+attachments" if draft.attachments else "")
    tally.mails += 1
    tally.groups[group] += 1
    codes = sorted({f.code for f in report.findings if f.severity.value != "info"})
    if codes:
        tally.interrupted += 1
        tally.group_hits[group] += 1
        tally.by_code.update(codes)
        if show and (show == "all" or show in codes):
            tally.shown.append(f"{label}: {draft.subject[:60]!r} -> {', '.join(codes)}")


def en_policy(draft: Draft) -> Policy:
    """The author's organisation is internal (a personal-provider author: their address)."""
    from service.policy.rules import classifier_for

    domain = draft.sender.rpartition("@")[2]
    if not domain:
        return Policy()
    inside = draft.sender if classifier_for(Policy()).is_personal(domain) else (
        registrable_domain(domain) or domain)
    return Policy(internal_domains=(inside,))


def ja_policy(_draft: Draft) -> Policy:
    return Policy(internal_domains=(JA_INTERNAL,), trusted_domains=(JA_TRUSTED,))


def run_set(name: str, path: Path, policy_for: Callable[[Draft], Policy],
            show: str | None) -> Tally:
    tally = Tally()
    for i, msg in enumerate(mailbox.mbox(str(path), create=False)):
        check(msg.as_bytes(), policy_for, tally, show, f"{name}#{i}")
    return tally


# --- incident-modelled cases (seeds) ------------------------------------------------

INC_POLICY = Policy(internal_domains=("example.co.jp",), trusted_domains=("jipdec.or.jp",
                                                                          "partner.co.jp"))


def staff_csv(n: int) -> bytes:
    rows = ["氏名,メール,電話"] + [f"社員{i},staff{i}@example.co.jp,090-1234-{i:04d}"
                                   for i in range(n)]
    return "\n".join(rows).encode("utf-8")


def encrypted_zip() -> bytes:
    import io

    import pyzipper

    buf = io.BytesIO()
    with pyzipper.AESZipFile(buf, "w", compression=pyzipper.ZIP_DEFLATED,
                             encryption=pyzipper.WZ_AES) as z:
        z.setpassword(b"pass1234")
        z.writestr("見積書.xlsx", b"data")
    return buf.getvalue()


THREAD_LIST = "\n".join(f"顧客{i} kokyaku{i}@mail{i}.example.jp 090-2222-{i:04d}"
                        for i in range(12))


def incidents() -> list[tuple[str, str, str, Callable[[], tuple[Draft | bytes, Policy]]]]:
    """(id, seed source, code that must interrupt, builder)."""
    sys.path.insert(0, str(CORPUS))
    from build_ja import pdf

    PDF = pdf("Document")
    ex = ROOT / "examples"
    pol = ROOT / "examples" / "policy.toml"

    def example(name: str) -> Callable[[], tuple[Draft | bytes, Policy]]:
        def build() -> tuple[Draft | bytes, Policy]:
            from service.policy.policyfile import load_policy

            return (ex / name).read_bytes(), load_policy(pol)
        return build

    def d(**kw: object) -> Callable[[], tuple[Draft | bytes, Policy]]:
        return lambda: (Draft(sender="tanto@example.co.jp", **kw), INC_POLICY)  # type: ignore[arg-type]

    quote = ("-----Original Message-----\n差出人: 佐藤 <sato@b-corp.co.jp>\n"
             "宛先: tanto@example.co.jp\n件名: 名簿\n\n" + THREAD_LIST)
    return [
        ("kiyose-944-in-to", "002 清瀬市: 会員944名を宛先に", "many_visible_recipients",
         example("circular-944-in-to.eml")),
        ("cc-mix-staff-list", "003 BCC/CC間違え + 重要ファイル", "personal_data",
         example("cc-mix-staff-list.eml")),
        ("cc-mix-personal", "003 BCC/CC間違え: 個人アドレスが見える", "personal_address_visible",
         example("cc-mix-staff-list.eml")),
        ("typo-fullwidth-at", "000 JIPDEC: 全角＠の宛先", "invalid_address",
         example("typos.eml")),
        ("jipdec-lookalike", "000 JIPDEC: jipdec.co.jp と jipdec.or.jp", "lookalike_domain",
         d(to=("jouhou@jipdec.co.jp",), subject="資料送付", text="資料を添付します。",
           attachments=(Attachment("資料.pdf", "application/pdf", PDF),))),
        ("lookalike-attachment-warns", "000 JIPDEC + 添付", "unencrypted_attachment",
         d(to=("jouhou@jipdec.co.jp",), subject="見積書", text="見積書を添付します。",
           attachments=(Attachment("見積書.pdf", "application/pdf", PDF),))),
        ("staff-list-attached", "004 誤送付: 名簿ファイルの添付", "personal_data",
         d(to=("sato@b-corp.co.jp",), subject="資料", text="資料を添付します。",
           attachments=(Attachment("社員名簿.csv", "text/csv", staff_csv(40)),))),
        ("staff-list-attachment-warns", "004 誤送付: 名簿ファイル (暗号化なし)",
         "unencrypted_attachment",
         d(to=("sato@b-corp.co.jp",), subject="資料", text="資料を添付します。",
           attachments=(Attachment("社員名簿.csv", "text/csv", staff_csv(40)),))),
        ("addresses-in-body", "000 JIPDEC: メールアドレスがある本文の誤送信", "personal_data",
         d(to=("sato@b-corp.co.jp",), subject="参加者一覧",
           text="参加者一覧です。\n" + THREAD_LIST)),
        ("forward-list-to-new", "000 転送: 名簿入りのスレッドを新しい相手へ", "personal_data",
         d(to=("yamada@c-corp.co.jp",), subject="FW: 名簿", text="ご参考まで。\n\n" + quote)),
        ("two-customers-to", "000 JIPDEC: B社とC社の宛先混在", "cross_domain_exposure",
         d(to=("joho-jiro@b-corp.co.jp", "keizai@c-corp.co.jp"), subject="訪問のお礼",
           text="本日はありがとうございました。")),
        ("ppap-password-zip", "001 PPAP: パスワード付きZIPとパスワードの別送",
         "password_zip_attached",
         d(to=("sato@b-corp.co.jp",), subject="見積書", text="パスワードは別途お送りします。",
           attachments=(Attachment("見積書.zip", "application/zip", encrypted_zip()),))),
        ("confidential-name", "003 重要ファイル: 社外秘の資料名", "confidential_keyword",
         d(to=("sato@b-corp.co.jp",), subject="資料", text="資料を添付します。",
           attachments=(Attachment("【社外秘】顧客一覧.pdf", "application/pdf", PDF),))),
        ("personal-in-cc", "003 BCC/CC間違え: 個人アドレスをCCに", "personal_address_visible",
         d(to=("sato@b-corp.co.jp",), cc=("hanako.member@gmail.com",), subject="ご案内",
           text="ご案内です。")),
        ("executable", "添付: 実行ファイル", "blocked_attachment",
         d(to=("sato@b-corp.co.jp",), subject="請求書", text="請求書です。",
           attachments=(Attachment("invoice.pdf.exe", "application/octet-stream", b"MZ"),))),
    ]


def run_incidents() -> tuple[int, list[str]]:
    from service.policy.mimeparse import draft_from_bytes
    from service.policy.rules import analyze

    caught, missed = 0, []
    for case_id, source, code, build in incidents():
        draft, policy = build()
        if isinstance(draft, bytes):
            draft = draft_from_bytes(draft)
        report = analyze(draft, policy)
        hit = any(f.code == code and f.severity.value != "info" for f in report.findings)
        if hit:
            caught += 1
        else:
            missed.append(f"{case_id} ({source}): {code} not interrupting")
    return caught, missed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", help="print the mails that interrupt on CODE (or 'all')")
    args = ap.parse_args(argv)
    start = time.process_time()
    sets = {"en": run_set("en", CORPUS / "en.mbox", en_policy, args.show),
            "ja": run_set("ja", CORPUS / "ja.mbox", ja_policy, args.show)}
    caught, missed = run_incidents()
    total_inc = caught + len(missed)
    print(f"{'set':<4} {'mails':>6} {'interrupted':>12} {'per 100':>8}   "
          f"{'incidents caught':>16}")
    for name, t in sets.items():
        print(f"{name:<4} {t.mails:>6} {t.interrupted:>12} "
              f"{t.per100(t.interrupted, t.mails):>8.1f}   {caught:>9}/{total_inc}")
    for name, t in sets.items():
        print(f"\n[{name}] by group (interrupted/mails, per 100):")
        for g in sorted(t.groups):
            print(f"  {g:<24} {t.group_hits[g]:>4}/{t.groups[g]:<5} "
                  f"{t.per100(t.group_hits[g], t.groups[g]):6.1f}")
        print(f"[{name}] by code (mails interrupted by it, per 100):")
        for code, n in t.by_code.most_common():
            print(f"  {code:<24} {n:>4} {t.per100(n, t.mails):6.1f}")
        for line in t.shown:
            print("  " + line)
    for line in missed:
        print("MISSED " + line)
    print(f"\n(CPU {time.process_time() - start:.1f} s)")
    ok = True
    for name, t in sets.items():
        ok &= result(f"ordinary mail ({name}): interruptions per 100",
                     t.per100(t.interrupted, t.mails), TARGET, "per 100",
                     reference=f"{caught}/{total_inc} incident cases caught",
                     detail=f"{t.interrupted} of {t.mails} mails")
    ok &= result("incident-modelled cases caught", 100.0 * caught / total_inc, 100.0, "%",
                 higher_is_better=True, reference="seeds/ incidents",
                 detail=f"{caught} of {total_inc}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
