"""The mails key delivery sends, each a new message from the service's own address.

None is a reply: no ``In-Reply-To``/``References``, so no client threads a key notice
with the message it unlocks. Subjects are fixed catalog texts; the only values from
outside are bare addresses (checked and set through ``email.headerregistry.Address``)
and, in bodies, the ZIP's neutral name and a file count (never file names: they may be
sensitive). Bodies hold Japanese then English.
"""

from __future__ import annotations

import os
import re
import unicodedata
from datetime import datetime, tzinfo
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from typing import Any

from service.delivery.when import format_time, zone_named
from service.errors import InputError, SendGuardError
from service.i18n import N_, N_plural, translator
from service.mailer import sender_address
from service.settings import Config
from service.storage import Package

CODE_MINUTES = 10
_SPACES = re.compile(r"\s+")
LOCALES = ("ja", "en")


def clean_display_name(name: str, limit: int = 64) -> str:
    """A display name without control or format characters (CR, LF, NUL, bidi...)."""
    kept = "".join(" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in name)
    return _SPACES.sub(" ", kept).strip()[:limit]


def address(addr: str, display_name: str = "") -> Address:
    """One checked address with a cleaned display name; InputError when malformed."""
    if not isinstance(addr, str) or any(unicodedata.category(ch)[0] == "C" for ch in addr):
        raise InputError("an address holds control characters")
    local, at, domain = addr.strip().rpartition("@")
    if not at or not local or not domain or any(ch.isspace() or ch in "<>,;\"" for ch in addr):
        raise InputError("not a single e-mail address")
    try:
        return Address(display_name=clean_display_name(display_name),
                       username=local, domain=domain)
    except (ValueError, IndexError):
        raise InputError("not a single e-mail address") from None


def org_zone(config: Config) -> tzinfo | None:
    """The zone the sender's organisation set in its policy, if any (read once per
    version of the policy file; a policy that does not load gives None)."""
    path = config.policy_path
    if not path:
        return None
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        return None
    return _zone_of(path, stamp)


@lru_cache(maxsize=8)
def _zone_of(path: str, stamp: int) -> tzinfo | None:
    from service.policy.policyfile import load_policy

    try:
        return zone_named(load_policy(path).default_time_zone)
    except SendGuardError:
        return None


def _both(key: str | tuple[str, str], n: int | None = None, zone: tzinfo | None = None,
          **params: Any) -> str:
    """The body in Japanese then English (the recipient's language is not known): ``key``
    a message id, or a plural pair for the count ``n``; ``datetime`` values are written in
    each language's zone (Japan time in Japanese, never a bare UTC; the organisation's
    zone in English when its policy names one)."""
    sep = translator("en").gettext("delivery.mail.separator")
    parts = []
    for loc in LOCALES:
        tr = translator(loc)
        local = {k: format_time(v, loc, zone) if isinstance(v, datetime) else v
                 for k, v in params.items()}
        if isinstance(key, tuple):
            text = tr.ngettext(*key, n if n is not None else 0, **local)
        else:
            text = tr.gettext(key, **local)
        parts.append(text + "\n\n" + tr.gettext("delivery.mail.signature"))
    return f"\n\n{sep}\n\n".join(parts) + "\n"


def _subject(key: str) -> str:
    return f"{translator('ja').gettext(key)} / {translator('en').gettext(key)}"


def new_mail(config: Config, to: str, subject_key: str, body: str, now: datetime,
             to_name: str = "") -> EmailMessage:
    """A fresh automatic message from ``SENDGUARD_MAIL_FROM`` to one address."""
    sender = sender_address(config)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = address(to, to_name)
    msg["Subject"] = _subject(subject_key)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=sender.domain or "sendguard.invalid")
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(body, charset="utf-8")
    return msg


def key_notice(config: Config, package: Package, to: str, link: str,
               now: datetime) -> EmailMessage:
    """The notice holding only the link to the key page (never the password)."""
    from service.files.manifest import LINK_ZIP_NAME

    link_mode = package.zip_filename == LINK_ZIP_NAME
    body = _both(_LINK_NOTICE_BODY if link_mode else _NOTICE_BODY, len(package.file_names),
                 org_zone(config), sender=package.sender, zip_name=package.zip_filename,
                 link=link, expires=package.expires_at)
    subject = (N_("delivery.mail.link_notice_subject") if link_mode
               else N_("delivery.mail.notice_subject"))
    return new_mail(config, to, subject, body, now)


_NOTICE_BODY = N_plural("delivery.mail.notice_body.one", "delivery.mail.notice_body")
_LINK_NOTICE_BODY = N_plural("delivery.mail.link_notice_body.one",
                             "delivery.mail.link_notice_body")


def code_mail(config: Config, to: str, code: str, now: datetime) -> EmailMessage:
    body = _both(N_("delivery.mail.code_body"), code=code, minutes=CODE_MINUTES)
    return new_mail(config, to, N_("delivery.mail.code_subject"), body, now)


def retrieved_mail(config: Config, package: Package, by: str, now: datetime) -> EmailMessage:
    """Tells the sender who retrieved the key first, so a wrong person shows up at once."""
    body = _both(N_("delivery.mail.retrieved_body"), None, org_zone(config),
                 zip_name=package.zip_filename, package_id=package.id, address=by, at=now)
    return new_mail(config, package.sender, N_("delivery.mail.retrieved_subject"), body, now)


def downloaded_mail(config: Config, package: Package, by: str, name: str,
                    now: datetime) -> EmailMessage:
    """Link mode: tells the sender of the first download (who, which file, when)."""
    body = _both(N_("delivery.mail.downloaded_body"), None, org_zone(config), name=name,
                 package_id=package.id, address=by, at=now)
    return new_mail(config, package.sender, N_("delivery.mail.downloaded_subject"), body,
                    now)
