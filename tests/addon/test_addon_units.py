"""Unit tables for the add-on's pure parts: Bcc fixes, event parsing, ledger, card builders."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from service.addon import cards, markup
from service.addon.analysis import analyze, classifier
from service.addon.confirm import TICK_EACH_LIMIT, decide, expect
from service.addon.event import parse_event
from service.addon.fixes import move_everyone, move_external
from service.addon.ledger import SendLedger
from service.errors import ConflictError
from service.i18n import using
from service.policy.addresses import parse_field
from service.policy.model import Draft
from service.policy.policyfile import parse_policy

from .support import INTERNAL, POLICY, SENDER, check_cards, members, texts

ME = SENDER


def entries(to: list[str] = (), cc: list[str] = (), bcc: list[str] = ()) -> list[Any]:  # type: ignore[assignment]
    return [*parse_field(to, "to"), *parse_field(cc, "cc"), *parse_field(bcc, "bcc")]


def internal(domain: str) -> bool:
    return domain == INTERNAL or domain.endswith("." + INTERNAL)


FIX_CASES = {
    "externals in To go to Bcc, To gets the sender": (
        dict(to=["a@gmail.com", "b@client.co.jp"]),
        ([ME], [], ["a@gmail.com", "b@client.co.jp"]),
        ([ME], [], ["a@gmail.com", "b@client.co.jp"])),
    "internal To stays, external Cc moves": (
        dict(to=[f"boss@{INTERNAL}"], cc=["a@gmail.com", f"x@sub.{INTERNAL}"]),
        ([f"boss@{INTERNAL}"], [f"x@sub.{INTERNAL}"], ["a@gmail.com"]),
        ([ME], [], [f"boss@{INTERNAL}", "a@gmail.com", f"x@sub.{INTERNAL}"])),
    "already in Bcc is not doubled": (
        dict(to=["a@gmail.com"], bcc=["a@gmail.com", "c@client.co.jp"]),
        ([ME], [], ["a@gmail.com", "c@client.co.jp"]),
        ([ME], [], ["a@gmail.com", "c@client.co.jp"])),
    "display names are dropped, case folded": (
        dict(to=["山田 太郎 <Taro.Yamada@Gmail.com>"]),
        ([ME], [], ["taro.yamada@gmail.com"]), ([ME], [], ["taro.yamada@gmail.com"])),
    "invalid entries stay where typed": (
        dict(to=["a@gmail.com b@gmail.com", "c@client.co.jp"], cc=["d＠gmail.com"]),
        (["a@gmail.com b@gmail.com"], ["d＠gmail.com"], ["c@client.co.jp"]),
        ([ME, "a@gmail.com b@gmail.com"], ["d＠gmail.com"], ["c@client.co.jp"])),
    "the sender in Bcc is dropped when everyone moves": (
        dict(to=["a@gmail.com"], bcc=[ME]),
        ([ME], [], ["a@gmail.com"]), ([ME], [], ["a@gmail.com"])),
    "nothing to move": (
        dict(to=[f"a@{INTERNAL}"]),
        ([f"a@{INTERNAL}"], [], []), ([ME], [], [f"a@{INTERNAL}"])),
    "empty draft": (dict(), ([ME], [], []), ([ME], [], [])),
}


@pytest.mark.parametrize("case", list(FIX_CASES), ids=list(FIX_CASES))
def test_fixes(case: str) -> None:
    fields, want_external, want_everyone = FIX_CASES[case]
    got = move_external(entries(**fields), ME, internal)
    assert (got.to, got.cc, got.bcc) == want_external
    got = move_everyone(entries(**fields), ME)
    assert (got.to, got.cc, got.bcc) == want_everyone


def test_fix_of_944_counts_the_moves() -> None:
    got = move_everyone(entries(to=members(944)), ME)
    assert got.moved == 944 and got.to == [ME] and len(got.bcc) == 944


EVENT_CASES: dict[str, tuple[Any, dict[str, Any]]] = {
    "not an object": ([1, 2], {"locale": "en", "to": ()}),
    "japanese locale": ({"commonEventObject": {"userLocale": "ja-JP"}}, {"locale": "ja"}),
    "french falls back to english": ({"commonEventObject": {"userLocale": "fr"}},
                                     {"locale": "en"}),
    "locale of wrong type": ({"commonEventObject": {"userLocale": ["ja"]}}, {"locale": "en"}),
    "recipients not a list": ({"gmail": {"toRecipients": "a@b.jp"}}, {"to": ()}),
    "non-string recipients skipped": ({"gmail": {"toRecipients": ["a@b.jp", 3, None]}},
                                      {"to": ("a@b.jp",)}),
    "form inputs of odd shape": ({"commonEventObject": {"formInputs": {
        "ok": {"stringInputs": {"value": ["x", 1]}}, "bad": "nope", "worse": {"stringInputs": 3}}}},
        {"form_inputs": {"ok": ("x",), "bad": (), "worse": ()}}),
    "parameters keep strings only": ({"commonEventObject": {"parameters": {"a": "1", "b": 2}}},
                                     {"parameters": {"a": "1"}}),
    "scopes absent vs given": ({"authorizationEventObject": {"authorizedScopes": ["s1", 5]}},
                               {"authorized_scopes": ("s1",)}),
    "no scopes key": ({"authorizationEventObject": {}}, {"authorized_scopes": None}),
    "oversized values are cut": ({"gmail": {"threadId": "x" * 50_000}}, {"thread_id": ""}),
    # Google's UI ids (decimal) become the API's hex ids
    "ui thread id": ({"gmail": {"threadId": "thread-f:1797415572919727089"}},
                     {"thread_id": "18f1b3f0c1a2b3f1"}),
    "ui message id": ({"gmail": {"messageId": "msg-f:1797415572919727089"}},
                      {"message_id": "18f1b3f0c1a2b3f1"}),
    "api thread id kept": ({"gmail": {"threadId": "18f1b3f0c1a2b3f1"}},
                           {"thread_id": "18f1b3f0c1a2b3f1"}),
    "draft ui id has no api id": ({"gmail": {"messageId": "msg-a:r-5436754757870000000"}},
                                  {"message_id": ""}),
    "ui id out of range": ({"gmail": {"threadId": "thread-f:99999999999999999999"}},
                           {"thread_id": ""}),
    "ui id zero": ({"gmail": {"threadId": "thread-f:0"}}, {"thread_id": ""}),
    "garbage thread id": ({"gmail": {"threadId": "thread-f:12a"}}, {"thread_id": ""}),
    "subject is not read": ({"gmail": {"subject": "invented"}}, {"to": ()}),
    # locale and zone: from Google when sent, else the organisation's defaults
    "no locale: default": ({"commonEventObject": {}},
                           {"locale": "ja", "time_zone": "Asia/Tokyo", "from_google": False}),
    "zone from google": ({"commonEventObject": {"userLocale": "en-US", "timeZone": {
        "id": "America/New_York", "offset": -18000000}}},
        {"locale": "en", "time_zone": "America/New_York", "tz_offset_ms": -18000000,
         "from_google": True}),
    "offset only": ({"commonEventObject": {"timeZone": {"offset": 3600000}}},
                    {"time_zone": "", "tz_offset_ms": 3600000, "locale": "ja"}),
}


@pytest.mark.parametrize("case", list(EVENT_CASES), ids=list(EVENT_CASES))
def test_parse_event_never_raises(case: str) -> None:
    body, want = EVENT_CASES[case]
    ev = parse_event(body)
    if "from_google" in want or "time_zone" in want or case == "offset only":
        ev = parse_event(body, default_locale="ja", default_zone="Asia/Tokyo")
    for name, value in want.items():
        assert getattr(ev, name) == value, name


def test_ledger_serialises_one_key_and_remembers_sends() -> None:
    ledger = SendLedger(ttl=60)
    order: list[str] = []

    def hold(tag: str) -> None:
        with ledger.hold("k"):
            order.append(tag + "+")
            time.sleep(0.05)
            order.append(tag + "-")

    threads = [threading.Thread(target=hold, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])
    assert ledger.sent("k") is None
    ledger.mark_sent("k", 3)
    assert ledger.sent("k") == 3


def test_ledger_forgets_after_ttl_and_times_out_when_busy() -> None:
    now = [0.0]
    ledger = SendLedger(ttl=10, clock=lambda: now[0])
    ledger.mark_sent("k", 1)
    now[0] = 11
    assert ledger.sent("k") is None
    with ledger.hold("busy"), pytest.raises(ConflictError), ledger.hold("busy", wait=0.01):
        pass


def _report(to: list[str], policy_text: str = POLICY, **kw: Any) -> Any:
    policy = parse_policy(policy_text)
    return policy, analyze(Draft(sender=ME, to=tuple(to), **kw), policy, content=True)


def _act(name: str, /, **params: str) -> dict[str, Any]:
    return markup.action(f"https://sendguard.example.jp/addon/action/{name}", params)


@pytest.mark.parametrize("n,grouped", [(TICK_EACH_LIMIT, False), (TICK_EACH_LIMIT + 1, True),
                                       (944, True)], ids=["100 each", "101 grouped", "944"])
def test_confirmation_ticks_each_recipient_or_each_domain(n: int, grouped: bool) -> None:
    policy, report = _report(members(n))
    exp = expect(report, policy, classifier(policy))
    assert exp.grouped is grouped
    with using("ja"):
        card = cards.confirmation_card(exp, report, "件名", "r1", _act)
    check_cards({"card": card})
    values = [i["value"] for s in card["sections"] for w in s["widgets"]
              if "selectionInput" in w and w["selectionInput"]["name"].startswith("rcpt")
              for i in w["selectionInput"]["items"]]
    assert len(values) == (len({a.split("@")[1] for a in members(n)}) if grouped else n)
    assert "送信前に必ず直すこと" in texts(card)


def test_decide_needs_every_tick_and_reason() -> None:
    policy, report = _report(members(12, ("a-corp.co.jp",)),
                             POLICY + '[confirm]\nallow_override = ["many_visible_recipients"]\n')
    exp = expect(report, policy, classifier(policy))
    (code,) = exp.overrides
    key = code
    ticks = [f"r:{a}" for a in members(12, ("a-corp.co.jp",))]
    base = {"commonEventObject": {"formInputs": {
        "rcpt_ext": {"stringInputs": {"value": ticks}},
        f"override.{key}": {"stringInputs": {"value": [" 同じ委員会の構成員で共有済み "]}}}}}
    assert decide(exp, parse_event(base)).ok
    missing = {"commonEventObject": {"formInputs": {
        "rcpt_ext": {"stringInputs": {"value": ticks[:-1]}},
        f"override.{key}": {"stringInputs": {"value": ["同じ委員会の構成員で連絡先は共有済み"]}}}}}
    d = decide(exp, parse_event(missing))
    assert not d.ok and d.missing_ticks == 1
    short = {"commonEventObject": {"formInputs": {
        "rcpt_ext": {"stringInputs": {"value": ticks}},
        f"override.{key}": {"stringInputs": {"value": ["急ぎ"]}}}}}
    d = decide(exp, parse_event(short))
    assert not d.ok and d.missing_reasons == 1


def test_card_limits_are_enforced_by_the_builder() -> None:
    with pytest.raises(ValueError, match="100 widgets"):
        markup.card("t", [markup.section([markup.text("x")] * 101)])
    with pytest.raises(ValueError, match="100 sections"):
        markup.card("t", [markup.section([markup.text("x")])] * 101)
    with pytest.raises(ValueError, match="100 items"):
        markup.checkboxes("n", "l", [("a", "b")] * 101)


def test_markup_escapes_html() -> None:
    w = markup.decorated("<script>x</script>", top="<b>", bottom="a & b")
    assert w["decoratedText"]["text"] == "&lt;script&gt;x&lt;/script&gt;"
    assert w["decoratedText"]["topLabel"] == "&lt;b&gt;"
    assert w["decoratedText"]["bottomLabel"] == "a &amp; b"


@pytest.mark.parametrize("locale", ["en", "ja"])
def test_every_static_card_parses(locale: str) -> None:
    policy = parse_policy(POLICY + '[recipients]\nrequired_bcc_external = ["archive@'
                          + INTERNAL + '"]\n[confirm]\nallow_override = ["blocked_recipient"]\n')
    with using(locale):
        built = [
            cards.homepage_card(policy),
            cards.sent_card(3), cards.sent_card(1), cards.sent_card(3, again=True),
            cards.not_saved_card(_act),
            cards.pick_draft_card([cards.Candidate("r1", "件名", ["a@b.jp"], [], ["c@d.jp"],
                                                   "10:00"),
                                   cards.Candidate("r2", "", [], [], [], "11-02 09:00")],
                                  _act),
            cards.scopes_card(["https://www.googleapis.com/auth/gmail.compose",
                               "https://example.com/unknown"], _act("grant_scopes")),
            cards.scopes_granted_card(_act("recheck")),
            cards.error_card("x", retry=_act("check_send")),
            cards.error_card("x", nothing_sent=False),
        ]
    check_cards({"cards": [{"card": c} for c in built]})
    assert all(c["sections"] for c in built)


@pytest.mark.parametrize("override", [False, True], ids=["blocked", "overridable"])
def test_confirmation_of_600_invalid_entries_stays_within_limits(override: bool) -> None:
    extra = '[confirm]\nallow_override = ["invalid_address"]\n' if override else ""
    policy, report = _report([f"bad{i}@" for i in range(600)], POLICY + extra)
    exp = expect(report, policy, classifier(policy))
    card = cards.confirmation_card(exp, report, "件名", "r1", _act)
    check_cards({"card": card})
    inputs = [w["textInput"]["name"] for s in card["sections"] for w in s["widgets"]
              if "textInput" in w]
    assert inputs == (["override.invalid_address"] if override else [])
    assert "… and 575 more" in texts(card)
    assert ("Send" in str(card["fixedFooter"]["primaryButton"]["text"])) is False  # no recipients


@pytest.mark.parametrize(("line", "error"), [
    ('default_language = "fr"', "must be one of ja, en"),
    ("default_language = 1", "must be one of ja, en"),
    ('default_time_zone = "Asia/Tokio"', "not a known IANA time zone"),
    ('default_time_zone = ""', "IANA time zone name"),
    ("default_time_zone = 9", "IANA time zone name"),
    ('default_time_zone = "../../etc/passwd"', "not a known IANA time zone"),
], ids=["unknown-language", "language-not-a-string", "misspelt-zone", "empty-zone",
        "zone-not-a-string", "zone-path"])
def test_organisation_defaults_refuse_bad_values(line: str, error: str) -> None:
    from service.errors import PolicyError
    from service.policy.policyfile import parse_policy

    with pytest.raises(PolicyError, match=error) as err:
        parse_policy(f"[organization]\n{line}\n")
    assert err.value.line == 2


def test_organisation_defaults() -> None:
    from service.policy.policyfile import parse_policy

    assert (parse_policy("").default_language, parse_policy("").default_time_zone) == (
        "en", "UTC")
    p = parse_policy('[organization]\ndefault_language = "ja"\n'
                     'default_time_zone = "Asia/Tokyo"\n')
    assert (p.default_language, p.default_time_zone) == ("ja", "Asia/Tokyo")


@pytest.mark.parametrize("locale,header", [("en", "nothing to tick"), ("ja", "チェックは不要")])
def test_info_findings_shown_without_a_tick(locale: str, header: str) -> None:
    """SPEC 10.6: a quotation to the right customer is shown with its info findings and
    asks for nothing: no acknowledgement, no recipient tick; Send is one click."""
    from service.policy.model import Attachment

    pdf = Attachment("見積書.pdf", "application/pdf", _pdf_bytes())
    policy, report = _report(["sato@client.co.jp"], attachments=(pdf,))
    assert not report.interrupts
    exp = expect(report, policy, classifier(policy))
    assert not exp.acks and exp.sendable
    with using(locale):
        card = cards.confirmation_card(exp, report, "見積書", "r1", _act)
    check_cards({"card": card})
    assert header in texts(card)
    assert "見積書.pdf" in texts(card)
    boxes = [w for s in card["sections"] for w in s["widgets"] if "selectionInput" in w]
    assert boxes == [] and exp.quiet and not exp.ticks
    assert "sato@client.co.jp" in texts(card)
    assert decide(exp, parse_event({"commonEventObject": {"formInputs": {}}})).ok


@pytest.mark.parametrize("n,by_domain", [(cards.QUIET_SHOWN, False),
                                         (cards.QUIET_SHOWN + 1, True)])
def test_a_quiet_card_lists_recipients_or_their_domains(n: int, by_domain: bool) -> None:
    """Internal mail to many colleagues interrupts nothing: no checkbox; past
    ``QUIET_SHOWN`` addresses the card lists domains (counts), within the card limits."""
    colleagues = [f"staff{i:03d}@{INTERNAL}" for i in range(n)]
    policy, report = _report(colleagues)
    assert not report.interrupts
    exp = expect(report, policy, classifier(policy))
    assert exp.quiet
    with using("en"):
        card = cards.confirmation_card(exp, report, "全体連絡", "r1", _act)
    check_cards({"card": card})
    text = texts(card)
    assert not [w for s in card["sections"] for w in s["widgets"] if "selectionInput" in w]
    assert ("staff000@" in text) is not by_domain
    assert (f"{INTERNAL}: {n} addresses" in text) is by_domain


def _pdf_bytes() -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, invariant=True)
    c.drawString(72, 720, "Quotation")
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize(("policy_line", "ticks"), [("", False),
                                                     ("always_tick_recipients = true\n", True),
                                                     ("always_tick_recipients = false\n", False)])
def test_an_admin_can_ask_for_recipient_ticks_on_every_mail(policy_line: str,
                                                            ticks: bool) -> None:
    policy, report = _report(["sato@client.co.jp"],
                             POLICY + "[confirm]\n" + policy_line)
    assert not report.interrupts
    exp = expect(report, policy, classifier(policy))
    assert bool(exp.ticks) is ticks and exp.quiet is not ticks
    empty = decide(exp, parse_event({"commonEventObject": {"formInputs": {}}}))
    assert empty.ok is not ticks


def test_always_tick_recipients_must_be_a_boolean() -> None:
    from service.errors import PolicyError

    with pytest.raises(PolicyError) as err:
        parse_policy('[confirm]\nalways_tick_recipients = "yes"\n')
    assert "confirm.always_tick_recipients" in str(err.value) and err.value.line == 2
