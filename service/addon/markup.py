"""Card and response JSON for HTTP Workspace add-ons (the card v1 JSON form).

Small builders for the widgets SendGuard uses, with Google's limits enforced where a
card is assembled: at most 100 sections per card and 100 widgets per section. Every text
that reaches an HTML-capable field goes through :func:`esc`, so an address or subject can
never inject markup. Field names are the proto JSON names ``google.apps.card_v1.Card``
parses; the response wrappers are those of the add-on HTTP runtime (``renderActions``,
``requesting_google_scopes``).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

MAX_SECTIONS = 100
MAX_WIDGETS = 100
MAX_ITEMS = 100          # selection items per selectionInput: SendGuard's own cap

Json = dict[str, Any]


class Act(Protocol):
    """How a card builder makes a button's action without knowing URLs:
    ``act("check_send", draft_id=d)`` is the action calling ``/addon/action/check_send``
    with that parameter (empty ones dropped). ``service.addon.routes.act`` is the real one."""

    def __call__(self, name: str, /, **params: str) -> Json: ...


def esc(value: object) -> str:
    """Text for an HTML-capable card field."""
    return html.escape(str(value), quote=False)


def card(title: str, sections: Sequence[Json], *, subtitle: str | None = None,
         footer: Json | None = None, name: str | None = None) -> Json:
    """A card; ``ValueError`` when Google's section/widget limits would be broken."""
    kept = [s for s in sections if s.get("widgets")]
    if len(kept) > MAX_SECTIONS:
        raise ValueError(f"a card holds at most {MAX_SECTIONS} sections, not {len(kept)}")
    for s in kept:
        if len(s["widgets"]) > MAX_WIDGETS:
            raise ValueError(f"a section holds at most {MAX_WIDGETS} widgets, "
                             f"not {len(s['widgets'])}")
    header: Json = {"title": title}
    if subtitle:
        header["subtitle"] = subtitle
    out: Json = {"header": header, "sections": kept}
    if footer:
        out["fixedFooter"] = footer
    if name:
        out["name"] = name
    return out


def section(widgets: Iterable[Json], header: str | None = None, *,
            collapsible_after: int | None = None) -> Json:
    """A section; ``collapsible_after`` shows that many widgets and folds the rest."""
    ws = list(widgets)
    out: Json = {"widgets": ws}
    if header:
        out["header"] = esc(header)
    if collapsible_after is not None and len(ws) > collapsible_after:
        out["collapsible"] = True
        out["uncollapsibleWidgetsCount"] = collapsible_after
    return out


def paragraph(markup: str) -> Json:
    """A text paragraph; ``markup`` must already be escaped (or be trusted card HTML)."""
    return {"textParagraph": {"text": markup}}


def text(value: str) -> Json:
    return paragraph(esc(value))


def decorated(value: str, *, top: str | None = None, bottom: str | None = None,
              button: Json | None = None) -> Json:
    out: Json = {"text": esc(value), "wrapText": True}
    if top:
        out["topLabel"] = esc(top)
    if bottom:
        out["bottomLabel"] = esc(bottom)
    if button:
        out["button"] = button
    return {"decoratedText": out}


def divider() -> Json:
    return {"divider": {}}


def action(url: str, params: Mapping[str, str] | None = None) -> Json:
    """An action calling the add-on endpoint ``url`` (HTTP add-ons name URLs, not functions)."""
    out: Json = {"function": url, "loadIndicator": "SPINNER"}
    if params:
        out["parameters"] = [{"key": k, "value": v} for k, v in params.items()]
    return out


# The card reference: a fixed footer's primary button "must be a text button with text and
# color set". Google blue, the add-on's layoutProperties.primaryColor (#1a73e8).
PRIMARY_COLOR: Json = {"red": 0x1A / 255, "green": 0x73 / 255, "blue": 0xE8 / 255, "alpha": 1}


def button(label: str, act: Json, *, disabled: bool = False, color: Json | None = None) -> Json:
    out: Json = {"text": label, "onClick": {"action": act}}
    if disabled:
        out["disabled"] = True
    if color:
        out["color"] = color
    return out


def buttons(*items: Json) -> Json:
    return {"buttonList": {"buttons": list(items)}}


def footer(primary: Json, secondary: Json | None = None) -> Json:
    """A fixed footer; the primary button gets the colour Google requires of it."""
    out: Json = {"primaryButton": {**primary, "color": primary.get("color", PRIMARY_COLOR)}}
    if secondary:
        out["secondaryButton"] = secondary
    return out


def checkboxes(name: str, label: str, items: Sequence[tuple[str, str]]) -> Json:
    """A checkbox list; items are ``(text, value)``, all unticked (the user ticks)."""
    if len(items) > MAX_ITEMS:
        raise ValueError(f"at most {MAX_ITEMS} items per checkbox list, not {len(items)}")
    return {"selectionInput": {
        "name": name, "label": label, "type": "CHECK_BOX",
        "items": [{"text": t, "value": v, "selected": False} for t, v in items],
    }}


def radio(name: str, label: str, items: Sequence[tuple[str, str]], selected: str) -> Json:
    """Radio buttons; items are ``(text, value)``, ``selected`` ticked."""
    return {"selectionInput": {
        "name": name, "label": label, "type": "RADIO_BUTTON",
        "items": [{"text": t, "value": v, "selected": v == selected} for t, v in items],
    }}


def text_input(name: str, label: str, *, hint: str | None = None) -> Json:
    out: Json = {"name": name, "label": label, "type": "MULTIPLE_LINE"}
    if hint:
        out["hintText"] = hint
    return {"textInput": out}


# --------------------------------------------------------------------------- responses


def push_card(c: Json) -> Json:
    return {"renderActions": {"action": {"navigations": [{"pushCard": c}]}}}


def update_card(c: Json) -> Json:
    return {"renderActions": {"action": {"navigations": [{"updateCard": c}]}}}


def _recipients(addresses: Iterable[str]) -> list[Json]:
    return [{"email": a} for a in addresses]


def _draft_markup(to: Sequence[str] | None, cc: Sequence[str] | None,
                  bcc: Sequence[str] | None) -> Json:
    markup: Json = {}
    if to is not None:
        markup["updateToRecipients"] = {"toRecipients": _recipients(to)}
    if cc is not None:
        markup["updateCcRecipients"] = {"ccRecipients": _recipients(cc)}
    if bcc is not None:
        markup["updateBccRecipients"] = {"bccRecipients": _recipients(bcc)}
    return {"gmailAction": {"updateDraftActionMarkup": markup}}


def update_draft(*, to: Sequence[str] | None = None, cc: Sequence[str] | None = None,
                 bcc: Sequence[str] | None = None, card: Json | None = None) -> Json:
    """Replace the compose window's recipient lists (each given list replaces its field);
    with ``card``, the panel is redrawn in the same response (``renderActions`` carries
    both an ``action`` and a ``hostAppAction``)."""
    actions: Json = {"hostAppAction": _draft_markup(to, cc, bcc)}
    if card is not None:
        actions["action"] = {"navigations": [{"updateCard": card}]}
    return {"renderActions": actions}


def sent(card: Json) -> Json:
    """The answer to a successful send: the "Sent" card, and the compose window emptied of
    its recipients so Gmail's own Send button cannot deliver the same message again
    (``updateDraftActionMarkup`` with an empty list replaces each field with nothing)."""
    return update_draft(to=[], cc=[], bcc=[], card=card)


def request_scopes(scopes: Sequence[str]) -> Json:
    """Ask Google to run the consent flow for ``scopes``, then repeat the request."""
    return {"requesting_google_scopes": {"scopes": list(scopes)}}

