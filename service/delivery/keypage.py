"""What the key page does, apart from HTTP: look up a link, send a code, reveal the key.

A link that does not exist gets one opaque ``LinkEndedError("invalid")``. The holder of a
real link is told what they need to go on (none of it is a secret from them): a wrong
code keeps them on the code form with the tries left (``CodeRefusedError``); only a link
that cannot give its password any more ends the road (``LinkEndedError`` with why:
revoked, expired, shown as often as allowed, locked). Looking a link up changes nothing:
mail scanners fetch links before people do; views are audited once per link and hour.

Limits (NIST SP 800-63B 5.2.2 allows at most 100 failed attempts per authenticator; we
stop far earlier): 5 guesses per code (the 6th is refused even when right), 20 wrong
codes per link in its whole life, then the link is locked; code mails: 3 per 10 minutes
and 10 in the life of a link, 10 per hour and 20 per day per address; a new code
replaces the old one. So at most 20 guesses at 10^8 codes, ever: odds 2 in 10^7.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.delivery import codes
from service.delivery.material import open_package, well_formed_token
from service.delivery.notices import code_mail, retrieved_mail
from service.errors import (
    CodeRefusedError,
    ConflictError,
    LinkEndedError,
    NotFoundError,
    SecretError,
)
from service.files.manifest import is_link_password
from service.mailer import Mailer, MailerError
from service.protect.keywrap import KeyWrapper
from service.settings import Config
from service.storage import SYSTEM_ACTOR, Grant, Package, Store, hash_token, recipient_actor

log = logging.getLogger(__name__)

CODES_PER_LINK = (3, 600)
CODES_PER_ADDRESS = (10, 3600)
CODES_PER_ADDRESS_DAY = (20, 86400)
MAX_CODES_PER_LINK = 10          # code mails in the whole life of one link
MAX_FAILURES_PER_LINK = 20       # wrong codes in the whole life of one link, then locked
AUDIT_EVERY_S = 3600             # one "viewed" row per link and hour, however many GETs
WRONG = "code.wrong"             # one audit row per wrong code: the lock counts them


@dataclass(frozen=True)
class Visit:
    grant: Grant
    package: Package

    def code_pending(self, now: datetime) -> bool:
        return (self.grant.code_hash is not None and self.grant.code_expires_at is not None
                and self.grant.code_expires_at > now)


@dataclass(frozen=True)
class Revealed:
    package: Package
    grant: Grant
    password: str = field(repr=False)


def mask(address: str) -> str:
    """``s***@example.co.jp``: enough for the visitor to recognise their address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def ended_reason(package: Package, grant: Grant, now: datetime) -> str | None:
    """Why the package cannot give its password at all any more, or None."""
    allowed = ((package.sender,) if package.release_mode == "sender_only"
               else package.recipients)
    if grant.package_id != package.id or grant.address not in allowed:
        return "invalid"
    if package.state == "revoked":
        return "revoked"
    if package.state == "expired" or package.purged_at is not None or package.expires_at <= now:
        return "expired"
    if package.state != "released":
        return "held"
    if package.reveal_count >= package.reveal_limit:
        return "used_up"
    return None


def usable(package: Package, grant: Grant, now: datetime) -> bool:
    return ended_reason(package, grant, now) is None


class KeyPage:
    def __init__(self, store: Store, mailer: Mailer, config: Config,
                 keywrapper: KeyWrapper) -> None:
        self.store = store
        self.mailer = mailer
        self.config = config
        self.keywrapper = keywrapper

    # -------------------------------------------------------------------- audit

    def _audit(self, visit: Visit, action: str, now: datetime, **data: object) -> None:
        self.store.append_audit(recipient_actor(visit.grant.address), action, now=now,
                                package_id=visit.package.id,
                                message_id=visit.package.message_id,
                                data={"address": visit.grant.address, **data})

    def _audit_throttled(self, visit: Visit, action: str, now: datetime,
                         **data: object) -> None:
        """At most one row per link, action and reason an hour: a loop of requests
        cannot fill the audit log."""
        key = f"audit:{visit.grant.id}:{action}:{data.get('reason', '')}"
        if not self.store.hit_rate_limit(key, 1, AUDIT_EVERY_S, now=now):
            self._audit(visit, action, now, **data, aggregated=f"first in {AUDIT_EVERY_S} s")

    def _ended(self, visit: Visit, action: str, reason: str, now: datetime) -> LinkEndedError:
        self._audit_throttled(visit, action, now, reason=reason)
        return LinkEndedError(reason)

    # -------------------------------------------------------------------- look-ups

    def find(self, token: str) -> Visit:
        """The grant and package of a link, whatever their state."""
        if not isinstance(token, str) or not well_formed_token(token):
            raise LinkEndedError("invalid")
        grant = self.store.find_grant_by_token_hash(hash_token(token))
        if grant is None:
            raise LinkEndedError("invalid")
        try:
            package = self.store.get_package(grant.package_id)
        except NotFoundError:
            raise LinkEndedError("invalid") from None
        return Visit(grant, package)

    def failures(self, visit: Visit) -> int:
        """Wrong codes entered on this link in its whole life (up to the lock)."""
        return len(self.store.search_audit(
            user=recipient_actor(visit.grant.address), package_id=visit.package.id,
            action=WRONG, limit=MAX_FAILURES_PER_LINK))

    def tries_left(self, visit: Visit) -> int:
        """Guesses left for the current code (fewer when the link is near its lock)."""
        code_left = codes.MAX_ATTEMPTS - visit.grant.code_attempts
        return max(0, min(code_left, MAX_FAILURES_PER_LINK - self.failures(visit)))

    def _check(self, visit: Visit, action: str, now: datetime) -> None:
        reason = ended_reason(visit.package, visit.grant, now)
        if reason is None and self.failures(visit) >= MAX_FAILURES_PER_LINK:
            reason = "locked"
        if (reason is None and visit.grant.code_sent_count >= MAX_CODES_PER_LINK
                and not visit.code_pending(now)):
            reason = "codes_used_up"
        if reason is not None:
            raise self._ended(visit, action, reason, now)

    def open(self, token: str, now: datetime) -> Visit:
        """A usable link; records (once an hour) that the page was viewed."""
        visit = self.find(token)
        self._check(visit, "key_page.refused", now)
        self._audit_throttled(visit, "key_page.viewed", now)
        return visit

    # -------------------------------------------------------------------- actions

    def send_code(self, token: str, now: datetime) -> Visit:
        """A new 8-digit code to the grant's own address (the old one dies)."""
        visit = self.find(token)
        self._check(visit, "code.refused", now)
        grant = visit.grant
        if (self.store.hit_rate_limit(f"code-link:{grant.id}", *CODES_PER_LINK, now=now)
                or self.store.hit_rate_limit(f"code-address:{grant.address}",
                                             *CODES_PER_ADDRESS, now=now)
                or self.store.hit_rate_limit(f"code-address-day:{grant.address}",
                                             *CODES_PER_ADDRESS_DAY, now=now)):
            self._audit_throttled(visit, "code.refused", now, reason="rate_limited")
            raise CodeRefusedError("rate_limited")
        code = codes.new_code()
        expires = now + timedelta(seconds=codes.LIFETIME_S)
        grant = self.store.set_code(grant.id, codes.code_hash(token, code), expires, now)
        self.mailer.send(code_mail(self.config, grant.address, code, now))
        del code
        self._audit(Visit(grant, visit.package), "code.sent", now,
                    sent_count=grant.code_sent_count)
        return Visit(grant, visit.package)

    def reveal(self, token: str, typed: str, now: datetime) -> Revealed:
        """The password, once the code is right; counts a reveal and mails the sender on
        the first one."""
        visit = self.find(token)
        self._check(visit, "code.failed", now)
        grant = visit.grant
        if codes.normalise(typed) is None:
            raise CodeRefusedError("malformed")       # not a guess: nothing counted
        if not visit.code_pending(now):
            self._audit_throttled(visit, "code.failed", now, reason="stale")
            raise CodeRefusedError("stale")
        attempts = self.store.record_code_attempt(grant.id)
        if attempts > codes.MAX_ATTEMPTS:
            self._audit_throttled(visit, "code.failed", now, reason="exhausted")
            raise CodeRefusedError("exhausted")
        if not codes.matches(token, typed, grant.code_hash):
            self._audit(visit, WRONG, now, attempts=attempts)
            if self.failures(visit) >= MAX_FAILURES_PER_LINK:
                raise self._ended(visit, "code.failed", "locked", now)
            raise CodeRefusedError("wrong" if attempts < codes.MAX_ATTEMPTS else "exhausted")
        material = open_package(self.keywrapper, visit.package)
        if not hmac.compare_digest(material.link_token(grant.address).encode(),
                                   token.encode()):
            self._audit(visit, "code.failed", now, reason="mismatch")
            raise SecretError()
        try:
            reveal = self.store.mark_revealed(grant.id, now)
        except ConflictError:
            self._audit(visit, "code.failed", now, reason="conflict")
            raise CodeRefusedError("stale") from None
        if reveal.first and not is_link_password(material.password):
            self._tell_sender(reveal.package, grant.address, now)  # link mode: on download
        return Revealed(reveal.package, reveal.grant, material.password)

    def show_again(self, visit: Visit, now: datetime) -> Revealed:
        """The password once more for the browser that revealed it a moment ago (reload,
        language switch, Back): counts nothing. Refused once the sender revoked it or it
        expired."""
        reason = ended_reason(visit.package, visit.grant, now)
        if reason not in (None, "used_up"):
            raise LinkEndedError(reason or "invalid")
        material = open_package(self.keywrapper, visit.package)
        return Revealed(visit.package, visit.grant, material.password)

    def _tell_sender(self, package: Package, by: str, now: datetime) -> None:
        try:
            self.mailer.send(retrieved_mail(self.config, package, by, now))
        except MailerError as exc:
            log.warning("package %s: retrieval notice to the sender failed (%s)", package.id,
                        exc.detail or exc)
            self.store.append_audit(SYSTEM_ACTOR, "sender_notice.failed", now=now,
                                    package_id=package.id, data={"address": package.sender})
            return
        self.store.append_audit(SYSTEM_ACTOR, "sender_notice.sent", now=now,
                                package_id=package.id, data={"address": package.sender})
