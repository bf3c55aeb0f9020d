"""Issue 9: the verified user is tied to the Gmail token and to the organisation.

Attacks first: Bob's valid user ID token beside Alice's OAuth access token, a consumer
Google account, a Workspace account of another organisation. Tokens are signed by the
local issuer and verified by google-auth; the access token's owner comes from the Gmail
emulator's ``users.getProfile`` through real HTTP on loopback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from service.auth import Caller, GmailProfileLookup, MailboxBinding
from service.devtools.gmail_emulator.emulator import GmailEmulator
from service.errors import AuthError, GmailClientError, GmailTransientError
from tests.addon.apis import ClientApi
from tests.addon.support import INTERNAL, OAUTH, POLICY, SENDER, Compose, Events, the_card

ALICE, ALICE_OAUTH = f"alice@{INTERNAL}", "ya29.alice-access-token-0123456789"
BOB = f"bob@{INTERNAL}"
CHECK_SEND = "/addon/action/check_send"
PATHS = ("/addon/homepage", "/addon/compose", "/addon/action/fix_everyone", CHECK_SEND)
MakeApp = Callable[..., Any]


@pytest.fixture
def api(make_app: MakeApp, emulator: GmailEmulator) -> ClientApi:
    emulator.add_user(ALICE, ALICE_OAUTH)
    return ClientApi(make_app())


def _draft(emulator: GmailEmulator, owner: str) -> Compose:
    c = Compose(to=[owner], bcc=[f"m{i}@gmail.com" for i in range(3)], subject="secret plan")
    emulator.put_draft(owner, c.mime(owner))
    return c


def _check(api: ClientApi, events: Events, c: Compose, **kw: Any) -> tuple[int, Any]:
    return api.post(CHECK_SEND, *events.make(to=c.to, bcc=c.bcc, **kw))


# --- the attack: someone else's access token -------------------------------------------

def test_bobs_id_token_with_alices_oauth_token_is_refused(
        api: ClientApi, events: Events, emulator: GmailEmulator,
        caplog: pytest.LogCaptureFixture) -> None:
    c = _draft(emulator, ALICE)
    with caplog.at_level(logging.WARNING):
        status, data = _check(api, events, c, sender=BOB, oauth=ALICE_OAUTH)
    assert (status, data) == (401, {"error": "unauthorized"})
    # Only the binding check reached Alice's mailbox: no draft listed, read or sent.
    assert [r.method for r in emulator.requests()] == ["gmail.users.getProfile"]
    assert emulator.sent() == []
    lines = " ".join(r.getMessage() for r in caplog.records)
    assert "another mailbox" in lines
    for secret in (ALICE_OAUTH, ALICE, BOB):
        assert secret not in lines


def test_own_token_passes_and_the_binding_is_remembered(
        api: ClientApi, events: Events, emulator: GmailEmulator) -> None:
    c = _draft(emulator, SENDER)
    for _ in range(3):
        status, data = _check(api, events, c)
        assert status == 200 and the_card(data)["name"] == "confirm"
    assert len(emulator.requests("getProfile")) == 1      # one lookup for three clicks
    # A remembered binding of Jimu's token does not make it Bob's.
    status, _ = _check(api, events, c, sender=BOB)
    assert status == 401


def test_a_token_gmail_refuses_is_a_gmail_error_not_a_pass(
        api: ClientApi, events: Events, emulator: GmailEmulator) -> None:
    c = _draft(emulator, SENDER)
    status, data = _check(api, events, c, oauth="ya29.revoked")
    assert status == 200
    card = the_card(data)
    assert card["name"] == "error" and "401" in str(card)
    assert [r.method for r in emulator.requests()] == ["/gmail/v1/users/me/profile"]


# --- the organisation: the hd claim ----------------------------------------------------

WORKSPACE_POLICY = POLICY + 'workspace_domains = ["mitsubachi.co.jp"]\n'

HD_CASES: dict[str, tuple[str, dict[str, Any], str, bool]] = {
    # name: (user e-mail, claim overrides, policy, accepted)
    "internal workspace user": (SENDER, {}, POLICY, True),
    "consumer account (no hd)": ("jimu.kiyose@gmail.com", {"hd": None}, POLICY, False),
    "consumer account at an internal address": (SENDER, {"hd": None}, POLICY, False),
    "another organisation's workspace": ("eve@evil-corp.example", {}, POLICY, False),
    "hd claims a look-alike of ours": (SENDER, {"hd": "mitsubachi-kiyose.jp.evil.example"},
                                       POLICY, False),
    "hd is a subdomain of an internal domain": (SENDER, {"hd": f"branch.{INTERNAL}"},
                                                POLICY, True),
    "hd is not a string": (SENDER, {"hd": ["mitsubachi-kiyose.jp"]}, POLICY, False),
    "workspace_domains names the org": (SENDER, {"hd": "mitsubachi.co.jp"}, WORKSPACE_POLICY,
                                        True),
    "workspace_domains replaces internal_domains": (SENDER, {}, WORKSPACE_POLICY, False),
    "pattern: subdomains only, hd is the parent": (
        SENDER, {}, f'[organization]\ninternal_domains = ["*.{INTERNAL}"]\n', False),
    "pattern: subdomains only, hd is one": (
        SENDER, {"hd": f"branch.{INTERNAL}"},
        f'[organization]\ninternal_domains = ["*.{INTERNAL}"]\n', True),
    "pattern: an exception excludes the hd": (
        SENDER, {"hd": f"branch.{INTERNAL}"},
        f'[organization]\ninternal_domains = ["{INTERNAL}", "-branch.{INTERNAL}"]\n', False),
    "no domains configured: any workspace": ("eve@evil-corp.example", {}, "", True),
    "no domains configured: no consumer": ("eve@gmail.com", {"hd": None}, "", False),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", list(HD_CASES), ids=list(HD_CASES))
def test_hosted_domain(make_app: MakeApp, events: Events, emulator: GmailEmulator,
                       case: str, path: str) -> None:
    email, claims, policy, accepted = HD_CASES[case]
    emulator.add_user(email, "ya29.token-of-" + email)
    api = ClientApi(make_app(policy=policy))
    headers, body = events.make(to=["a@gmail.com"], user_token=events.user(email, **claims),
                                oauth="ya29.token-of-" + email)
    status, data = api.post(path, headers, body)
    if accepted:
        assert status == 200, data
    else:
        assert (status, data) == (401, {"error": "unauthorized"})
        assert emulator.requests() == []          # refused before Gmail was asked anything


def test_workspace_domains_is_a_checked_policy_key() -> None:
    from service.errors import PolicyError
    from service.policy.policyfile import parse_policy

    policy = parse_policy('[organization]\nworkspace_domains = ["Example.CO.JP"]\n')
    assert policy.workspace_domains == ("example.co.jp",)
    with pytest.raises(PolicyError, match="workspace_domains"):
        parse_policy("[organization]\nworkspace_domains = \"example.co.jp\"\n")
    with pytest.raises(PolicyError, match="workspace_domains"):
        parse_policy('[organization]\nworkspace_domains = ["not a domain"]\n')


# --- the parts on their own --------------------------------------------------------------

def test_profile_lookup_against_the_emulator(gmail_server: tuple[GmailEmulator, str],
                                            emulator: GmailEmulator) -> None:
    lookup = GmailProfileLookup(gmail_server[1])
    try:
        assert lookup(OAUTH) == SENDER
        with pytest.raises(GmailClientError) as bad:
            lookup("ya29.unknown")
        assert bad.value.http_status == 401
        emulator.inject(503, method="getProfile")
        with pytest.raises(GmailTransientError):
            lookup(OAUTH)
    finally:
        lookup.close()


def test_profile_lookup_unreachable_is_transient() -> None:
    lookup = GmailProfileLookup("http://127.0.0.1:9/", timeout=(0.5, 0.5))
    with pytest.raises(GmailTransientError):
        lookup(OAUTH)
    lookup.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _boom(token: str) -> str:
    raise RuntimeError(token)            # its message holds the token: must not be logged


LOOKUP_FAILURES: dict[str, tuple[Callable[[str], str], type[Exception]]] = {
    "other mailbox": (lambda t: BOB, AuthError),
    "same name, other domain": (lambda t: "jimu@mitsubachi-kiyose.jp.evil.example", AuthError),
    "lookup crashes": (_boom, AuthError),
    "gmail refuses": (lambda t: (_ for _ in ()).throw(GmailClientError("x", http_status=401)),
                      GmailClientError),
}


@pytest.mark.parametrize("case", list(LOOKUP_FAILURES), ids=list(LOOKUP_FAILURES))
def test_binding_fails_closed(case: str, caplog: pytest.LogCaptureFixture) -> None:
    lookup, error = LOOKUP_FAILURES[case]
    binding = MailboxBinding(lookup)
    with caplog.at_level(logging.DEBUG), pytest.raises(error):
        binding.require(Caller(SENDER, "1"), OAUTH)
    assert all(OAUTH not in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("caller,token", [(Caller("", ""), OAUTH), (Caller(SENDER, "1"), "")],
                         ids=["no user", "no token"])
def test_binding_needs_both(caller: Caller, token: str) -> None:
    with pytest.raises(AuthError):
        MailboxBinding(lambda t: SENDER).require(caller, token)


def test_binding_is_remembered_until_it_expires_and_bounded() -> None:
    calls: list[str] = []
    clock = Clock()

    def lookup(token: str) -> str:
        calls.append(token)
        return SENDER

    binding = MailboxBinding(lookup, ttl=60, max_entries=2, clock=clock)
    me = Caller(SENDER.upper(), "1")                 # addresses compare case-insensitively
    binding.require(me, "t1")
    binding.require(me, "t1")
    assert calls == ["t1"]
    clock.now += 61
    binding.require(me, "t1")
    assert calls == ["t1", "t1"]
    binding.require(me, "t2")
    binding.require(me, "t3")                        # evicts t1 (least recently used)
    binding.require(me, "t1")
    assert calls == ["t1", "t1", "t2", "t3", "t1"]
