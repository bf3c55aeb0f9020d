"""Helpers for the add-on tests: event objects as Gmail sends them, the seeds' incidents,
and a check that every card in any response parses as ``google.apps.card_v1.Card``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as mail_policy
from typing import Any

from google.apps.card_v1 import Card

from service.addon.scopes import ALL_SCOPES, LOCALE_SCOPE
from service.devtools.tokens import LocalIssuer
from service.gmail.ids import ui_message_id, ui_thread_id

AUDIENCE = "https://sendguard.example.jp/addon"
SERVICE_ACCOUNT = "service-123456789012@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
CLIENT_ID = "123456789012-sendguard.apps.googleusercontent.com"
SENDER = "jimu@mitsubachi-kiyose.jp"
INTERNAL = "mitsubachi-kiyose.jp"
OAUTH = "ya29.test-oauth-token-for-jimu"

POLICY = f"""
[organization]
internal_domains = ["{INTERNAL}"]
"""
POLICY_OVERRIDE = POLICY + """
[confirm]
allow_override = ["many_visible_recipients"]
"""

PERSONAL = ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "ezweb.ne.jp", "icloud.com",
            "softbank.ne.jp", "hotmail.com", "outlook.jp")
ORGS = ("kiyose-np.or.jp", "hoikuen-himawari.jp", "kodomo-mirai.or.jp", "yochien-sakura.ed.jp")


def members(n: int, domains: Sequence[str] = PERSONAL + ORGS, prefix: str = "member") -> list[str]:
    """``n`` distinct addresses spread over ``domains`` (the Kiyose circular's membership)."""
    return [f"{prefix}{i:04d}@{domains[i % len(domains)]}" for i in range(n)]


def kiyose_944() -> list[str]:
    return members(944)


def toyama_external_49() -> list[str]:
    orgs = ("pref.toyama.jp", "police.pref.toyama.jp", "toyama-kotsu.or.jp", "jaf.or.jp",
            "toyama-bus.co.jp", "city.toyama.toyama.jp", "nichiyu.co.jp")
    return members(49, orgs, prefix="kotsu")


def toyama_internal_4() -> list[str]:
    return [f"kenmin{i}@{INTERNAL}" for i in range(4)]


# ----------------------------------------------------------------------------- events


@dataclass
class Events:
    """Builds (headers, body) pairs for add-on requests, signed by a local issuer."""

    issuer: LocalIssuer
    audience: str = AUDIENCE
    service_account: str = SERVICE_ACCOUNT
    client_id: str = CLIENT_ID

    def system(self, **kw: Any) -> str:
        kw.setdefault("audience", self.audience)
        kw.setdefault("service_account", self.service_account)
        return self.issuer.system_token(**kw)

    def user(self, email: str = SENDER, **kw: Any) -> str:
        kw.setdefault("audience", self.client_id)
        return self.issuer.user_token(email=email, **kw)

    def make(self, *, to: Sequence[str] = (), cc: Sequence[str] = (), bcc: Sequence[str] = (),
             locale: str = "en", params: Mapping[str, str] | None = None,
             form: Mapping[str, Sequence[str]] | None = None, sender: str = SENDER,
             oauth: str | None = OAUTH, thread_id: str | None = None,
             message_id: str | None = None,
             scopes: Sequence[str] | None = ALL_SCOPES, system: str | None = None,
             user_token: str | None = None, with_user: bool = True,
             time_zone: tuple[str, int] | None = ("UTC", 0),
             ) -> tuple[dict[str, str], dict[str, Any]]:
        """An event as Google documents it ("Event objects"; "Get user locale and
        timezone"): ``userLocale`` and ``timeZone`` only when the user granted
        ``script.locale`` (the descriptor sets ``useLocaleFromApp``); ``authorizedScopes``
        always (None leaves it out, for the shapes Google does not send); the open thread
        and message as Gmail's UI spells them (``thread-f:<decimal>``, given here as API
        hex ids); no subject (Google sends none)."""
        sys_token = system if system is not None else self.system()
        auth: dict[str, Any] = {"systemIdToken": sys_token}
        if with_user:
            auth["userIdToken"] = user_token if user_token is not None else self.user(sender)
        if oauth is not None:
            auth["userOAuthToken"] = oauth
        if scopes is not None:
            auth["authorizedScopes"] = list(scopes)
        gmail: dict[str, Any] = {"toRecipients": list(to), "ccRecipients": list(cc),
                                 "bccRecipients": list(bcc)}
        if thread_id:
            gmail["threadId"] = ui_thread_id(thread_id)
        if message_id:
            gmail["messageId"] = ui_message_id(message_id)
        common: dict[str, Any] = {
            "hostApp": "GMAIL", "platform": "WEB",
            "parameters": dict(params or {}),
            "formInputs": {k: {"stringInputs": {"value": list(v)}}
                           for k, v in (form or {}).items()},
        }
        if scopes is None or LOCALE_SCOPE in scopes:
            common["userLocale"] = locale
            if time_zone is not None:
                common["timeZone"] = {"id": time_zone[0], "offset": time_zone[1]}
        body = {
            "commonEventObject": common,
            "authorizationEventObject": auth,
            "gmail": gmail,
        }
        return {"Authorization": f"Bearer {sys_token}"}, body


# ----------------------------------------------------------------------------- cards


def cards_in(response: Any) -> list[dict[str, Any]]:
    """Every card object anywhere in a response (navigations, nested cards)."""
    found: list[dict[str, Any]] = []

    def walk(node: Any, key: str | None) -> None:
        if isinstance(node, dict):
            if key in ("pushCard", "updateCard", "card") or "sections" in node:
                found.append(node)
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)

    walk(response, None)
    return found


def check_cards(response: Any) -> list[dict[str, Any]]:
    """Parse every card with the card v1 proto (unknown fields fail) and check limits."""
    cards = cards_in(response)
    for card in cards:
        Card.from_json(json.dumps(card))
        assert len(card.get("sections", [])) <= 100, "more than 100 sections"
        for s in card.get("sections", []):
            assert len(s.get("widgets", [])) <= 100, "more than 100 widgets in a section"
    return cards


def the_card(response: Mapping[str, Any]) -> dict[str, Any]:
    cards = check_cards(response)
    assert len(cards) == 1, f"expected one card, got {len(cards)}"
    return cards[0]


def draft_update(response: Mapping[str, Any]) -> dict[str, list[str]]:
    markup = response["renderActions"]["hostAppAction"]["gmailAction"][
        "updateDraftActionMarkup"]
    out = {}
    for key, field_name, list_name in (("updateToRecipients", "to", "toRecipients"),
                                       ("updateCcRecipients", "cc", "ccRecipients"),
                                       ("updateBccRecipients", "bcc", "bccRecipients")):
        if key in markup:
            out[field_name] = [r["email"] for r in markup[key][list_name]]
    return out


def widgets(card: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for s in card.get("sections", []):
        yield from s.get("widgets", [])


def texts(card: Mapping[str, Any]) -> str:
    """All visible text of a card, for assertions about what the user reads."""
    out: list[str] = [card.get("header", {}).get("title", ""),
                      card.get("header", {}).get("subtitle", "")]
    for s in card.get("sections", []):
        out.append(s.get("header", ""))
        for w in s.get("widgets", []):
            out.append(json.dumps(w, ensure_ascii=False))
    return "\n".join(out)


def buttons(card: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Button text -> its action (footer buttons included)."""
    found: dict[str, dict[str, Any]] = {}

    def add(b: Mapping[str, Any]) -> None:
        action = b.get("onClick", {}).get("action")
        if action:
            found[b["text"]] = action

    for w in widgets(card):
        for b in w.get("buttonList", {}).get("buttons", []):
            add(b)
        if "button" in w.get("decoratedText", {}):
            add(w["decoratedText"]["button"])
    for key in ("primaryButton", "secondaryButton"):
        if key in card.get("fixedFooter", {}):
            add(card["fixedFooter"][key])
    return found


def params_of(action: Mapping[str, Any]) -> dict[str, str]:
    return {p["key"]: p["value"] for p in action.get("parameters", [])}


def checkbox_values(card: Mapping[str, Any], prefix: str) -> dict[str, list[str]]:
    """Checkbox list name -> its item values, for names starting with ``prefix``."""
    return {w["selectionInput"]["name"]: [i["value"] for i in w["selectionInput"]["items"]]
            for w in widgets(card)
            if "selectionInput" in w and w["selectionInput"]["name"].startswith(prefix)}


def tick_all(card: Mapping[str, Any]) -> dict[str, list[str]]:
    """The form a careful sender submits: every checkbox ticked."""
    return checkbox_values(card, "")


# ----------------------------------------------------------------------------- drafts


@dataclass
class Compose:
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)
    subject: str = "お知らせ"
    body: str = "みなさま\nお世話になっております。"
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)

    def mime(self, sender: str = SENDER) -> bytes:
        msg = EmailMessage(policy=mail_policy.clone(cte_type="7bit"))
        msg["From"] = sender
        for name in ("to", "cc", "bcc"):
            values = getattr(self, name)
            if values:
                msg[name.capitalize()] = ", ".join(values)
        msg["Subject"] = self.subject
        msg.set_content(self.body)
        for filename, ctype, data in self.attachments:
            maintype, _, subtype = ctype.partition("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        return msg.as_bytes()
