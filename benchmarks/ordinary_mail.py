"""Interruptions per 100 ordinary mails, and the incident cases that must stay caught
(SPEC 10.6, issue 18).

An interruption is a mail with at least one ``warn`` or ``block`` finding (what makes the
sender stop and tick). Two committed corpora (benchmarks/corpus/README.md):
- ``en.mbox``: real mail, a sample of the SpamAssassin public corpus's easy ham (CC0),
  each message checked as its author's draft (internal = the author's organisation), once
  alone and once with the author's history replayed in date order through the real history
  store (``en-context.mbox.gz``: their other mail and the threads they answer; replies
  whose answered message the corpus lacks are counted apart, the target line without them);
- ``ja.mbox``: Japanese business mail written after published templates, to the right
  customers (quotations, invoices, replies with Outlook/Gmail quotes, disclaimers).
Next to them, the incident-modelled cases of /work/shared/seeds (and examples/*.eml): each
must still interrupt with the code named, also when the sender's history knows every
recipient (each written to alone before). Prints per-code counts, split internal/external
and with/without attachments, and the same sets with ``attachments.warn_unencrypted =
true`` (what an admin who wants every external attachment confirmed asks of senders); one
result line per set and one for the incidents.

    python benchmarks/ordinary_mail.py [--show CODE]   # --show prints the mails
"""

from __future__ import annotations

import argparse
import mailbox
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).with_name("corpus")))

from benchlib import result  # noqa: E402

from service.policy.context import HistoryView  # noqa: E402
from service.policy.domains import registrable_domain  # noqa: E402
from service.policy.model import Attachment, Draft  # noqa: E402
from service.policy.policyfile import Policy  # noqa: E402

CORPUS = Path(__file__).with_name("corpus")
TARGET = 3.0      # interruptions per 100 ordinary mails (SPEC 10.6)
JA_INTERNAL = "minato-sangyo.co.jp"
UNKNOWN_THREAD = " (reply, answered mail not in corpus)"
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
          show: str | None, label: str, history: HistoryView | None = None,
          suffix: str = "") -> None:
    from service.errors import MessageError
    from service.policy.mimeparse import draft_from_bytes
    from service.policy.rules import analyze, classifier_for

    try:
        draft = draft_from_bytes(raw)
    except MessageError:
        return
    policy = policy_for(draft)
    report = analyze(draft, policy, history=history)
    cls = classifier_for(policy)
    external = any(e.address and not cls.is_internal(e.domain or "", e.address)
                   for e in report.recipients)
    group = ("external" if external else "internal") + (
        "+attachments" if draft.attachments else "") + suffix
    tally.mails += 1
    tally.groups[group] += 1
    codes = sorted({f.code for f in report.findings if f.severity.value != "info"})
    if codes:
        tally.interrupted += 1
        tally.group_hits[group] += 1
        tally.by_code.update(codes)
        if show and (show == "all" or show in codes):
            tally.shown.append(f"{label}: {draft.subject[:60]!r} -> {', '.join(codes)}")
            if os.environ.get("SHOW_MESSAGES"):
                tally.shown.extend(f"    {f.code}: {f.message}" for f in report.findings
                                   if f.severity.value != "info")


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


def confirming(policy_for: Callable[[Draft], Policy]) -> Callable[[Draft], Policy]:
    """``policy_for`` with ``attachments.warn_unencrypted = true``."""
    from dataclasses import replace

    return lambda draft: replace(policy_for(draft), warn_unencrypted=True)


def run_set(name: str, path: Path, policy_for: Callable[[Draft], Policy],
            show: str | None) -> Tally:
    tally = Tally()
    for i, msg in enumerate(mailbox.mbox(str(path), create=False)):
        check(msg.as_bytes(), policy_for, tally, show, f"{name}#{i}")
    return tally


def run_with_history(name: str, path: Path, context: Path,
                     policies: list[Callable[[Draft], Policy]], show: str | None
                     ) -> list[Tally]:
    """Each message checked with its author's history as SendGuard would hold it then: the
    author's earlier mail of the corpus and ``context`` counted as sent (``record_history``,
    what the Sent import and every send record), and before a reply, the earlier messages
    of its thread read (``record_together`` and the thread's organisations, what
    ``history_threads.learn_thread`` stores from Gmail's ``threads.get``). All through
    the real history store on SQLite, replayed in date order. One tally per policy.

    A reply whose answered message the corpus lacks is grouped apart: the add-on reads
    that thread from Gmail, the benchmark has nothing to read (this corpus is one
    subscriber's copy of the lists), so such a reply is checked knowing less than the
    add-on would."""
    import gzip
    import secrets
    import tempfile
    from datetime import UTC, datetime

    from build_en import author, ids, thread_subject

    from service.history_threads import thread_orgs
    from service.protect.keywrap import LocalKeyWrapper
    from service.storage import Store
    from service.storage.sent import sent_message

    def when(msg: mailbox.mboxMessage) -> datetime | None:
        from email.utils import parsedate_to_datetime
        try:
            d = parsedate_to_datetime(str(msg.get("date") or ""))
        except (TypeError, ValueError, IndexError):
            return None
        return d.astimezone(UTC) if d.tzinfo else None

    with gzip.open(context, "rb") as f, tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "context.mbox").write_bytes(f.read())
        others = list(mailbox.mbox(str(Path(tmp, "context.mbox")), create=False))
        mine = list(mailbox.mbox(str(path), create=False))
        events = sorted(((t, 0 if i < len(mine) else 1, i) for i, m in enumerate(mine + others)
                         if (t := when(m)) is not None), key=lambda e: (e[0], e[1]))
        every = mine + others
        store = Store.from_url(f"sqlite:///{tmp}/history.db")
        store.upgrade()
        crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)), datetime.now(UTC))
        tallies = [Tally() for _p in policies]
        seen: list[int] = []            # messages already sent, in date order
        dated = {i for _t, _k, i in events}
        refs = [ids(m) for m in every]
        own = [str(m.get("message-id") or "").strip() for m in every]
        subj = [thread_subject(str(m.get("subject") or "")) for m in every]
        dates = [when(m) for m in every]
        for when_, _kind, i in events:
            msg = every[i]
            raw = msg.as_bytes()
            me = author(msg)
            if i < len(mine):
                answered = _answered(msg)
                earlier = {own[j] for j in seen}
                # the thread is read when the message answered is in the mailbox (as in
                # Gmail: the reply is in its thread); otherwise nothing is known of it
                thread = [j for j in seen if answered in earlier and (
                    (refs[j] & (refs[i] - {own[i]}))
                    or (subj[i] and subj[j] == subj[i]
                        and (when_ - (dates[j] or when_)).days <= 30))]
                if thread:
                    people = [(own[j] or f"ctx:{j}",
                               [a for _n, a in getaddresses([str(every[j].get(h) or "")
                                                             for h in ("from", "to", "cc")])
                                if "@" in a]) for j in thread]
                    store.record_together(crypto, me, people, when_)
                    for ref in sorted(refs[i] - {own[i]}):
                        store.record_thread_orgs(crypto, me, ref, thread_orgs(people), when_)
                unknown = _is_reply(msg) and answered not in earlier
                for k, (policy_for, tally) in enumerate(zip(policies, tallies, strict=True)):
                    check(raw, policy_for, tally, show if k == 0 else None, f"{name}#{i}",
                          history=store.history_view(crypto, me),
                          suffix=UNKNOWN_THREAD if unknown else "")
            sent = sent_message(raw, None)
            if sent is not None and me:
                store.record_history(crypto, me, sent, when_)
            seen.append(i)
        for i, msg in enumerate(mine):        # undated: checked without a history
            if i not in dated:
                for policy_for, tally in zip(policies, tallies, strict=True):
                    check(msg.as_bytes(), policy_for, tally, None, f"{name}#{i}")
        store.close()
    return tallies


def _is_reply(msg: mailbox.mboxMessage) -> bool:
    import re

    return bool(msg.get("in-reply-to") or msg.get("references")
                or re.match(r"\s*(re|aw)(\[\d+\])?\s*:", str(msg.get("subject") or ""), re.I))


def _answered(msg: mailbox.mboxMessage) -> str:
    """The Message-ID a reply answers: In-Reply-To, else the last References id."""
    import re

    for header in ("in-reply-to", "references"):
        found = re.findall(r"<[^<>\s]+>", str(msg.get(header) or ""))
        if found:
            return str(found[0] if header == "in-reply-to" else found[-1])
    return ""


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
        ("reply-adds-private-cc", "003 BCC/CC間違え: 返信に個人アドレスを追加",
         "personal_address_visible",
         d(to=("sato@b-corp.co.jp",), cc=("hanako.member@gmail.com",), subject="RE: ご案内",
           reply=True, text="承知しました。\n\n2025年6月2日(月) 10:00 佐藤 <sato@b-corp.co.jp>:"
           "\n> ご案内です。")),
        ("reply-adds-other-customer", "000 JIPDEC: 返信でC社を追加 (B社のスレッド)",
         "cross_domain_exposure",
         d(to=("sato@b-corp.co.jp",), cc=("keizai@c-corp.co.jp",), subject="RE: 見積",
           reply=True, text="承知しました。\n\n-----Original Message-----\n"
           "差出人: 佐藤 <sato@b-corp.co.jp>\n宛先: tanto@example.co.jp\n件名: 見積\n\n見積の件")),
        ("forgot-attachment-ja", "SPEC 10.1: 添付忘れ", "missing_attachment",
         d(to=("sato@b-corp.co.jp",), subject="お見積書", text="お見積書を添付いたします。")),
        ("forgot-attachment-en", "SPEC 10.1: forgotten attachment", "missing_attachment",
         d(to=("sato@b-corp.co.jp",), subject="Quotation",
           text="Dear Mr Sato,\n\nPlease find attached our quotation.\n\nBest regards")),
        ("executable", "添付: 実行ファイル", "blocked_attachment",
         d(to=("sato@b-corp.co.jp",), subject="請求書", text="請求書です。",
           attachments=(Attachment("invoice.pdf.exe", "application/octet-stream", b"MZ"),))),
    ]


def run_incidents(with_history: bool = False) -> tuple[int, list[str]]:
    """Each case must interrupt with its code; ``with_history``: also when the sender has a
    history in which every recipient of the case was written to before, one at a time
    (known people, never shown to each other: a history must not silence an incident)."""
    import secrets
    import tempfile
    from datetime import UTC, datetime

    from service.policy.addresses import parse_field
    from service.policy.mimeparse import draft_from_bytes
    from service.policy.rules import analyze
    from service.protect.keywrap import LocalKeyWrapper
    from service.storage import Store
    from service.storage.history import SentMessage

    caught, missed = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.from_url(f"sqlite:///{tmp}/history.db") if with_history else None
        if store is not None:
            store.upgrade()
            crypto = store.history_crypto(LocalKeyWrapper(secrets.token_hex(32)),
                                          datetime.now(UTC))
        for n, (case_id, source, code, build) in enumerate(incidents()):
            draft, policy = build()
            if isinstance(draft, bytes):
                draft = draft_from_bytes(draft)
            history = None
            if store is not None:
                people = [e for f in ("to", "cc", "bcc")
                          for e in parse_field(draft.entries(f), f) if e.address]
                store.record_history_many(crypto, draft.sender, [
                    SentMessage(((e.address or "", e.display_name),), f"<{n}.{k}@history>",
                                visible=(draft.sender, e.address or ""))
                    for k, e in enumerate(people[:50])], datetime.now(UTC))
                history = store.history_view(crypto, draft.sender)
            report = analyze(draft, policy, history=history)
            hit = any(f.code == code and f.severity.value != "info" for f in report.findings)
            if hit:
                caught += 1
            else:
                missed.append(f"{case_id} ({source}): {code} not interrupting"
                              + (" with a history" if with_history else ""))
        if store is not None:
            store.close()
    return caught, missed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--show", help="print the mails that interrupt on CODE (or 'all')")
    args = ap.parse_args(argv)
    start = time.process_time()
    context = CORPUS / "en-context.mbox.gz"
    en, en_strict = run_with_history("en", CORPUS / "en.mbox", context,
                                     [en_policy, confirming(en_policy)], args.show)
    sets = {"en": en,
            "en0": run_set("en0", CORPUS / "en.mbox", en_policy, args.show),
            "ja": run_set("ja", CORPUS / "ja.mbox", ja_policy, args.show)}
    # the same mail for an admin who wants every external attachment confirmed
    strict = {"en": en_strict,
              "en0": run_set("en0", CORPUS / "en.mbox", confirming(en_policy), None),
              "ja": run_set("ja", CORPUS / "ja.mbox", confirming(ja_policy), None)}
    caught, missed = run_incidents()
    caught_h, missed_h = run_incidents(with_history=True)
    missed += missed_h
    total_inc = caught + len(missed) - len(missed_h)
    labels = {"en": "en, with the author's history (all)",
              "en0": "en, the drafts alone (no history)",
              "ja": "ja, the drafts alone"}
    print(f"{'set':<40} {'mails':>6} {'interrupted':>12} {'per 100':>8}   "
          f"{'per 100 with warn_unencrypted':>29}")
    for name, t in sets.items():
        st = strict[name]
        print(f"{labels[name]:<40} {t.mails:>6} {t.interrupted:>12} "
              f"{t.per100(t.interrupted, t.mails):>8.1f}   "
              f"{st.per100(st.interrupted, st.mails):>29.1f}")
    known, known_hits = _threads_known(en)
    print(f"{'en, with history, threads in the corpus':<40} {known:>6} {known_hits:>12} "
          f"{en.per100(known_hits, known):>8.1f}")
    print(f"incident-modelled cases caught: {caught}/{total_inc} "
          f"(with a history of each recipient alone: {caught_h}/{total_inc})")
    for name, t in sets.items():
        print(f"\n[{name}] by group (interrupted/mails, per 100):")
        for g in sorted(t.groups):
            print(f"  {g:<58} {t.group_hits[g]:>4}/{t.groups[g]:<5} "
                  f"{t.per100(t.group_hits[g], t.groups[g]):6.1f}")
        print(f"[{name}] by code (mails interrupted by it, per 100):")
        for code, n in t.by_code.most_common():
            print(f"  {code:<24} {n:>4} {t.per100(n, t.mails):6.1f}")
        for line in t.shown:
            print("  " + line)
    for line in missed:
        print("MISSED " + line)
    print(f"\n(CPU {time.process_time() - start:.1f} s)")
    ja = sets["ja"]
    inc = f"{caught}/{total_inc} incident cases caught ({caught_h} with a history)"
    ok = result("ordinary mail (en): interruptions per 100", en.per100(known_hits, known),
                TARGET, "per 100", reference=inc,
                detail=f"{known_hits} of {known} mails checked with the author's history and "
                       f"thread; all {en.mails}: {en.interrupted}; drafts alone: "
                       f"{sets['en0'].interrupted}")
    ok &= result("ordinary mail (ja): interruptions per 100", ja.per100(ja.interrupted, ja.mails),
                 TARGET, "per 100", reference=inc, detail=f"{ja.interrupted} of {ja.mails} mails")
    ok &= result("incident-modelled cases caught", 100.0 * min(caught, caught_h) / total_inc,
                 100.0, "%", higher_is_better=True, reference="seeds/ incidents",
                 detail=f"{caught} of {total_inc}; with a history: {caught_h}")
    return 0 if ok else 1


def _threads_known(t: Tally) -> tuple[int, int]:
    """Mails and interruptions but the replies whose answered mail the corpus lacks."""
    groups = [g for g in t.groups if not g.endswith(UNKNOWN_THREAD)]
    return sum(t.groups[g] for g in groups), sum(t.group_hits[g] for g in groups)

if __name__ == "__main__":
    sys.exit(main())
