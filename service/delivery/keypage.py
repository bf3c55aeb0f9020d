"""What the key page does, apart from HTTP: look up a link, send a code, reveal the key.

Every refusal is the same ``SecretError`` (unknown or malformed link, package held,
revoked or expired, reveal limit reached, rate limit, wrong or stale code, too many
attempts), so the page can never tell a visitor which check failed. Looking a link up
changes nothing but an audit line: mail scanners fetch links before people do.

Limits: 3 codes per 10 minutes per link and 10 per hour per address; 5 attempts per code
(the 6th is refused even when right); a new code replaces the old one.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from service.config import Config
from service.delivery import codes
from service.delivery.mailer import Mailer, MailerError
from service.delivery.material import open_package, well_formed_token
from service.delivery.notices import code_mail, retrieved_mail
from service.errors import ConflictError, NotFoundError, SecretError
from service.protect.keywrap import KeyWrapper
from service.storage import SYSTEM_ACTOR, Grant, Package, Store, hash_token, recipient_actor

log = logging.getLogger(__name__)

CODES_PER_LINK = (3, 600)
CODES_PER_ADDRESS = (10, 3600)


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
    password: str = field(repr=False)


def mask(address: str) -> str:
    """``s***@example.co.jp``: enough for the visitor to recognise their address."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def usable(package: Package, grant: Grant, now: datetime) -> bool:
    allowed = ((package.sender,) if package.release_mode == "sender_only"
               else package.recipients)
    return (package.state == "released" and package.expires_at > now
            and package.reveal_count < package.reveal_limit
            and grant.package_id == package.id and grant.address in allowed)


class KeyPage:
    def __init__(self, store: Store, mailer: Mailer, config: Config,
                 keywrapper: KeyWrapper) -> None:
        self.store = store
        self.mailer = mailer
        self.config = config
        self.keywrapper = keywrapper

    def _refuse(self, visit: Visit | None, action: str, reason: str, now: datetime,
                **data: object) -> SecretError:
        if visit is not None:
            self.store.append_audit(recipient_actor(visit.grant.address), action, now=now,
                                    package_id=visit.package.id,
                                    message_id=visit.package.message_id,
                                    data={"address": visit.grant.address, "reason": reason,
                                          **data})
        return SecretError()

    def find(self, token: str) -> Visit:
        """The grant and package of a link, whatever their state; SecretError if none."""
        if not isinstance(token, str) or not well_formed_token(token):
            raise SecretError()
        grant = self.store.find_grant_by_token_hash(hash_token(token))
        if grant is None:
            raise SecretError()
        try:
            package = self.store.get_package(grant.package_id)
        except NotFoundError:
            raise SecretError() from None
        return Visit(grant, package)

    def open(self, token: str, now: datetime) -> Visit:
        """A usable link; records that the page was viewed, consumes nothing."""
        visit = self.find(token)
        if not usable(visit.package, visit.grant, now):
            raise self._refuse(visit, "key_page.refused", visit.package.state, now)
        self.store.append_audit(recipient_actor(visit.grant.address), "key_page.viewed",
                                now=now, package_id=visit.package.id,
                                message_id=visit.package.message_id,
                                data={"address": visit.grant.address})
        return visit

    def send_code(self, token: str, now: datetime) -> Visit:
        """A new 8-digit code to the grant's own address (the old one dies)."""
        visit = self.find(token)
        if not usable(visit.package, visit.grant, now):
            raise self._refuse(visit, "code.refused", visit.package.state, now)
        grant = visit.grant
        if (self.store.hit_rate_limit(f"code-link:{grant.id}", *CODES_PER_LINK, now=now)
                or self.store.hit_rate_limit(f"code-address:{grant.address}",
                                             *CODES_PER_ADDRESS, now=now)):
            raise self._refuse(visit, "code.refused", "rate_limited", now)
        code = codes.new_code()
        expires = now + timedelta(seconds=codes.LIFETIME_S)
        grant = self.store.set_code(grant.id, codes.code_hash(token, code), expires, now)
        self.mailer.send(code_mail(self.config, grant.address, code, now))
        del code
        self.store.append_audit(recipient_actor(grant.address), "code.sent", now=now,
                                package_id=visit.package.id,
                                message_id=visit.package.message_id,
                                data={"address": grant.address,
                                      "sent_count": grant.code_sent_count})
        return Visit(grant, visit.package)

    def reveal(self, token: str, typed: str, now: datetime) -> Revealed:
        """The password, once the code is right; counts a reveal and mails the sender on
        the first one."""
        visit = self.find(token)
        if not usable(visit.package, visit.grant, now):
            raise self._refuse(visit, "code.failed", visit.package.state, now)
        attempts = self.store.record_code_attempt(visit.grant.id)
        if attempts > codes.MAX_ATTEMPTS:
            raise self._refuse(visit, "code.failed", "locked", now, attempts=attempts)
        grant = visit.grant
        live = grant.code_expires_at is not None and grant.code_expires_at > now
        if not codes.matches(token, typed, grant.code_hash) or not live:
            raise self._refuse(visit, "code.failed", "wrong" if live else "stale", now,
                               attempts=attempts)
        material = open_package(self.keywrapper, visit.package)
        if not hmac.compare_digest(material.link_token(grant.address).encode(),
                                   token.encode()):
            raise self._refuse(visit, "code.failed", "mismatch", now)
        try:
            reveal = self.store.mark_revealed(grant.id, now)
        except ConflictError:
            raise self._refuse(visit, "code.failed", "conflict", now) from None
        if reveal.first:
            self._tell_sender(reveal.package, grant.address, now)
        return Revealed(reveal.package, material.password)

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
