"""The sender's encrypted packages in the add-on: the home card's list, Revoke, Release now.

A package is acted on only by its sender: any other caller gets exactly the card a
missing package gets, so package ids reveal nothing. Revoking and releasing are written to
the audit log by the store itself (``package.revoked``/``package.released`` with the
sender as actor); a click on a package that has moved on meanwhile changes nothing and
says so.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import g

from service.addon import cards, keycards, markup
from service.addon.event import AddonEvent
from service.addon.localtime import user_zone
from service.errors import ConflictError, NotFoundError
from service.i18n import N_, _, ngettext
from service.services import services

if TYPE_CHECKING:
    from datetime import datetime

    from service.addon.markup import Act, Json
    from service.auth import Caller
    from service.storage.records import Package

log = logging.getLogger(__name__)

NOT_FOUND = N_("addon.error.package_not_found")


def owned(user: str, package_id: str) -> Package:
    """The caller's package; ``NotFoundError`` alike for a missing one and another's."""
    g.addon_not_found = NOT_FOUND
    if not package_id or len(package_id) > 64:
        raise NotFoundError("package not found")
    package = services().store.get_package(package_id)
    if package.sender.lower() != user.strip().lower():
        log.warning("refused a package action by someone other than its sender")
        raise NotFoundError("package not found")
    return package


def homepage(caller: Caller, event: AddonEvent, act: Act, notice: str | None = None) -> Json:
    """The home card, topped by the caller's recent packages (if any)."""
    sv = services()
    extra = []
    try:
        recent = sv.store.list_packages(caller.user_email, keycards.HOME_PACKAGES)
    except Exception:          # the checks and policy still show; the list says it failed
        log.exception("recent packages not loaded")
        extra.append(markup.section([markup.text(_("addon.home.packages.unavailable"))]))
    else:
        if recent or notice:
            extra.append(keycards.packages_section(recent, user_zone(event), sv.clock(),
                                                   act, notice=notice))
    from service.addon.sent_import import home_section

    learning = home_section(caller, event, act)
    if learning is not None:
        extra.append(learning)
    return cards.homepage_card(sv.policy, extra,
                               enforced=sv.config.enforce_check_send)


def result_card(user: str, package_id: str, event: AddonEvent, act: Act,
                notice: str | None = None) -> Json:
    sv = services()
    package = owned(user, package_id)
    grants = [gr.address for gr in sv.store.list_grants(package.id)]
    return keycards.result_card(package, grants, user_zone(event), sv.clock(),
                                act, notice=notice)


def _answer(caller: Caller, event: AddonEvent, act: Act, package_id: str,
            notice: str) -> dict[str, Any]:
    if event.param("view") == "home":
        return markup.update_card(homepage(caller, event, act, notice))
    return markup.update_card(result_card(caller.user_email, package_id, event, act, notice))


def _unchanged(package_id: str) -> str:
    sv = services()
    package = sv.store.get_package(package_id)
    return _("addon.package.unchanged",
             state=keycards.state_name(package, sv.clock()))


def revoke(caller: Caller, event: AddonEvent, act: Act) -> dict[str, Any]:
    """The misdelivery brake: no code or password works afterwards."""
    sv = services()
    package = owned(caller.user_email, event.param("package_id"))
    try:
        now = sv.clock()
        revoked = sv.store.revoke(package.id, caller.user_email, now)
        _erase_files(revoked, caller.user_email, now)
        notice = _("addon.package.revoked_notice")
    except ConflictError:
        notice = _unchanged(package.id)
    return _answer(caller, event, act, package.id, notice)


def _erase_files(package: Package, actor: str, now: datetime) -> None:
    """Link mode: recalling a package erases its stored files at once (SPEC 10.3)."""
    from service.delivery.linkpackages import erase_package_files, is_link

    if is_link(package):
        sv = services()
        erase_package_files(sv.store, sv.keywrapper, sv.files, package, actor, now, "revoked")


def release(caller: Caller, event: AddonEvent, act: Act) -> dict[str, Any]:
    """Release a held (or awaiting) password now: its notices go out at once."""
    from service.delivery.release import release_package
    from service.mailer import MailerError

    sv = services()
    package = owned(caller.user_email, event.param("package_id"))
    try:
        _released, sent = release_package(sv.store, sv.mailer, sv.config, sv.keywrapper, package.id,
                                  caller.user_email, sv.clock())
        notice = ngettext("addon.package.released_notice.one",
                          "addon.package.released_notice", sent)
    except MailerError:
        notice = _("addon.package.release_retry")
    except ConflictError:
        notice = _unchanged(package.id)
    return _answer(caller, event, act, package.id, notice)
