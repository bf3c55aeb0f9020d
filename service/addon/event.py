"""The add-on event object Google POSTs to an HTTP add-on, read defensively.

Modelled on Google's documented event object: ``commonEventObject`` (``userLocale`` and
``timeZone`` only when the deployment sets ``useLocaleFromApp`` and the user granted
``script.locale``), ``authorizationEventObject`` (tokens, ``authorizedScopes``) and
``gmail`` (recipients, and the open thread and message as Gmail's UI names them:
``thread-f:<decimal>``). There is no subject in it. What Google leaves out falls back to
the organisation's own choice (policy ``[organization] default_language`` and
``default_time_zone``).

Only the fields SendGuard uses are kept. Everything in the body is client-controlled
except what the verified tokens vouch for, so nothing here is trusted: values are
type-checked, bounded and never raise on odd shapes (a wrong type reads as absent).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service.gmail.ids import api_id
from service.i18n import negotiate

MAX_RECIPIENTS = 20_000         # per field; Gmail caps a message far below this
MAX_TEXT = 10_000               # one form value or parameter
MAX_VALUES = 20_000             # values of one form input
MAX_OFFSET_MS = 14 * 3600 * 1000

# Babel parses a locale tag on every call; Gmail sends a handful of distinct ones, so each
# is parsed once (bounded: the tag is client-controlled).
_negotiate = functools.lru_cache(maxsize=64)(negotiate)


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any, limit: int = MAX_TEXT) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _strings(value: Any, limit: int) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(v[:MAX_TEXT] for v in value[:limit] if isinstance(v, str))


@dataclass(frozen=True)
class AddonEvent:
    """What a request says about the user's context (unverified except by the tokens)."""

    locale: str = "en"
    host_app: str = ""
    parameters: Mapping[str, str] = field(default_factory=dict)
    form_inputs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    to: tuple[str, ...] = ()
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    thread_id: str = ""             # the API's hex id (converted from ``thread-f:``)
    message_id: str = ""            # likewise, from ``msg-f:``
    user_oauth_token: str = ""
    authorized_scopes: tuple[str, ...] | None = None   # None: Google did not say
    time_zone: str = ""             # the user's IANA zone id, e.g. "Asia/Tokyo"
    tz_offset_ms: int = 0           # its offset from UTC, when the id is unknown here
    from_google: bool = False       # locale and zone came with the event (not defaults)

    @property
    def recipients(self) -> tuple[str, ...]:
        return self.to + self.cc + self.bcc

    def param(self, name: str) -> str:
        return self.parameters.get(name, "")

    def inputs(self, prefix: str) -> set[str]:
        """Every value of every form input whose name starts with ``prefix``."""
        return {v for name, values in self.form_inputs.items() if name.startswith(prefix)
                for v in values}

    def text_input(self, name: str) -> str:
        values = self.form_inputs.get(name, ())
        return values[0] if values else ""


def parse_event(body: Any, *, default_locale: str = "en",
                default_zone: str = "UTC") -> AddonEvent:
    """Read an event object (any JSON value) into an :class:`AddonEvent`; the defaults
    stand in for ``userLocale``/``timeZone`` when Google did not send them."""
    ev = _obj(body)
    common = _obj(ev.get("commonEventObject"))
    gmail = _obj(ev.get("gmail"))
    auth = _obj(ev.get("authorizationEventObject"))
    params = {k[:200]: _str(v) for k, v in list(_obj(common.get("parameters")).items())[:100]
              if isinstance(k, str) and isinstance(v, str)}
    scopes = auth.get("authorizedScopes")
    zone = _obj(common.get("timeZone"))
    user_locale = _str(common.get("userLocale"), 64)
    zone_id, offset = _str(zone.get("id"), 64), _offset(zone.get("offset"))
    has_zone = bool(zone_id) or "offset" in zone
    return AddonEvent(
        locale=_negotiate(user_locale) if user_locale else default_locale,
        host_app=_str(common.get("hostApp"), 32),
        parameters=params,
        form_inputs=_form_inputs(common.get("formInputs")),
        to=_strings(gmail.get("toRecipients"), MAX_RECIPIENTS),
        cc=_strings(gmail.get("ccRecipients"), MAX_RECIPIENTS),
        bcc=_strings(gmail.get("bccRecipients"), MAX_RECIPIENTS),
        thread_id=api_id(_str(gmail.get("threadId"), 200)) or "",
        message_id=api_id(_str(gmail.get("messageId"), 200)) or "",
        user_oauth_token=_str(auth.get("userOAuthToken"), 8192),
        authorized_scopes=_strings(scopes, 100) if isinstance(scopes, list) else None,
        time_zone=zone_id if has_zone else default_zone,
        tz_offset_ms=offset,
        from_google=bool(user_locale) or has_zone,
    )


def _offset(value: Any) -> int:
    """A UTC offset in milliseconds, within the +-14 hours real zones use (else 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    ms = int(value)
    return ms if abs(ms) <= MAX_OFFSET_MS else 0


def _form_inputs(value: Any) -> dict[str, tuple[str, ...]]:
    """``{name: {"stringInputs": {"value": [...]}}}`` -> ``{name: (values...)}``."""
    out: dict[str, tuple[str, ...]] = {}
    for name, widget in list(_obj(value).items())[:1000]:
        if not isinstance(name, str):
            continue
        inputs = _obj(_obj(widget).get("stringInputs"))
        out[name[:200]] = _strings(inputs.get("value"), MAX_VALUES)
    return out
