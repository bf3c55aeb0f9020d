"""Cards of "Encrypt & send": who gets the password, what was sent, the user's packages.

The key card offers only the draft's actual recipients (external ones marked, as on the
confirmation card) and says in words how the policy releases the password. The result card
and the home card's list show a package's state in the user's time zone with the buttons
that still apply: Revoke while a code or password could still be had, Release now while
the password is held.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from service.addon import markup as m
from service.addon.cards import FINDINGS_SHOWN, capped, field_names
from service.addon.localtime import duration, local_time
from service.addon.markup import Act
from service.files.manifest import LINK_ZIP_NAME
from service.i18n import join_list, t

if TYPE_CHECKING:
    from service.addon.confirm import Expectation
    from service.policy.policyfile import Policy
    from service.storage import Package

Json = dict[str, Any]

KEY_INPUT = "key"                # prefix of every key-recipient checkbox list
LISTS_PER_SECTION = 20           # x 100 items: 2,000 recipients per section
HOME_PACKAGES = 10
RELEASABLE = ("held", "awaiting_release")
REVOCABLE = ("held", "awaiting_release", "released")


def key_value(address: str) -> str:
    return "k:" + address


def offered_keys(exp: Expectation, release_mode: str) -> dict[str, str]:
    """Checkbox value -> address: every valid recipient (none when the key goes to the
    sender only)."""
    if release_mode == "sender_only":
        return {}
    return {key_value(a): a for g in exp.groups for a in g.addresses}


METHOD_INPUT = "delivery_method"     # ZIP in the message, or files by link (SPEC 10.3)


def _checkbox_sections(prefix: str, label: str, items: list[tuple[str, str]],
                       header: str) -> list[Json]:
    lists = [m.checkboxes(f"{prefix}_{i // m.MAX_ITEMS}", label, items[i:i + m.MAX_ITEMS])
             for i in range(0, len(items), m.MAX_ITEMS)]
    return [m.section(lists[i:i + LISTS_PER_SECTION], header if i == 0 else None)
            for i in range(0, len(lists), LISTS_PER_SECTION)]


def _mode_text(policy: Policy, sender: str, locale: str) -> str:
    delay = duration(policy.release_delay, locale)
    return t(f"addon.keys.mode.{policy.release_mode}", locale, delay=delay, sender=sender)


def key_card(exp: Expectation, subject: str, draft_id: str, attachments: Sequence[str],
             policy: Policy, sender: str, locale: str, act: Act, *,
             notice: str | None = None) -> Json:
    """Tick who gets the password; the footer encrypts and sends."""
    intro = [m.decorated(subject or t("addon.confirm.no_subject", locale),
                         top=t("addon.confirm.subject", locale, subject="").strip())]
    if notice:
        intro.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    if policy.release_mode != "sender_only":
        intro.append(m.text(t("addon.keys.intro", locale)))
    intro.append(m.decorated(_mode_text(policy, sender, locale),
                             top=t("addon.keys.mode.title", locale)))
    sections = [m.section(intro)]
    sections.append(m.section([m.radio(
        METHOD_INPUT, t("addon.keys.method.label", locale),
        [(t("addon.keys.method.zip", locale), "zip"),
         (t("addon.keys.method.link", locale), "link")], policy.delivery_method)]))
    offered = offered_keys(exp, policy.release_mode)
    for external in (True, False):
        items = []
        for g in exp.groups:
            if g.external != external:
                continue
            fields = field_names(g.field_list(), locale)
            for a in g.addresses:
                if key_value(a) not in offered:
                    continue
                label = (t("addon.confirm.recipient.external", locale, address=a, field=fields,
                           domain=g.domain) if external else
                         t("addon.confirm.recipient", locale, address=a, field=fields))
                items.append((label, key_value(a)))
        if items:
            head = ("addon.confirm.external_section" if external
                    else "addon.confirm.internal_section")
            sections += _checkbox_sections(f"{KEY_INPUT}_{'ext' if external else 'int'}",
                                           t("addon.keys.label", locale), items,
                                           t(head, locale, n=len(items)))
    files = capped([m.text(n) for n in attachments], FINDINGS_SHOWN, locale)
    sections.append(m.section(files, t("addon.keys.files", locale, n=len(attachments)),
                              collapsible_after=5))
    foot = m.footer(
        m.button(t("addon.button.encrypt_send", locale),
                 act("encrypt_send", draft_id=draft_id, fp=exp.fingerprint)),
        m.button(t("addon.button.recheck", locale), act("check_send", draft_id=draft_id)))
    return m.card(t("addon.keys.title", locale), sections, footer=foot, name="encrypt_keys")


# --------------------------------------------------------------------------- packages


def active(package: Package, now: datetime) -> bool:
    return package.state in REVOCABLE and package.expires_at > now


def state_name(package: Package, now: datetime, locale: str) -> str:
    state = package.state if active(package, now) or package.state not in REVOCABLE \
        else "expired"
    return t(f"addon.package.state_name.{state}", locale)


def state_text(package: Package, zone: tzinfo, now: datetime, locale: str) -> str:
    """Where the password is, in words: held until 14:35, awaiting release, ..."""
    from service.delivery.release import message_sent

    if package.state in REVOCABLE and package.expires_at <= now:
        return t("addon.package.state.expired", locale)
    sender_only = package.release_mode == "sender_only"
    if package.state == "held":
        if not message_sent(package):
            return t("addon.package.state.unconfirmed", locale)
        at = local_time(package.release_at or now, zone, now)
        return t("addon.package.state.held_sender" if sender_only
                 else "addon.package.state.held", locale, at=at)
    if package.state == "released":
        if not message_sent(package):        # released, but its message is not known sent
            return t("addon.package.state.released_unconfirmed", locale)
        at = local_time(package.released_at or now, zone, now)
        return t("addon.package.state.released_sender" if sender_only
                 else "addon.package.state.released", locale, at=at)
    return t(f"addon.package.state.{package.state}", locale)


def package_buttons(package: Package, now: datetime, locale: str, act: Act, view: str, *,
                    release_held: bool) -> list[Json]:
    """Revoke and Release now, where they still apply; ``release_held``: also before the
    delay ends (the home card), not only in manual mode."""
    out = []
    if active(package, now):
        out.append(m.button(t("addon.button.revoke", locale),
                            act("revoke_package", package_id=package.id, view=view)))
        if package.state == "awaiting_release" or (release_held and package.state == "held"):
            out.append(m.button(t("addon.button.release", locale),
                                act("release_package", package_id=package.id, view=view)))
    return out


def result_card(package: Package, grants: Sequence[str], zone: tzinfo, now: datetime,
                locale: str, act: Act, *, notice: str | None = None) -> Json:
    """After Encrypt & send: what left, where the password is, Revoke / Release now."""
    lines = []
    if notice:
        lines.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    link = package.zip_filename == LINK_ZIP_NAME
    lines.append(m.text(t("addon.encrypted.link_text" if link else "addon.encrypted.text",
                          locale, n=len(package.recipients), zip_name=package.zip_filename,
                          files=len(package.file_names))))
    lines.append(m.decorated(state_text(package, zone, now, locale),
                             top=state_name(package, now, locale)))
    lines.append(m.text(t("addon.package.key_to", locale,
                          addresses=join_list(list(grants), locale, limit=10))
                        if grants else t("addon.package.key_to_none", locale)))
    if active(package, now) and package.state == "held":
        lines.append(m.text(t("addon.package.held_help", locale)))
    buttons = package_buttons(package, now, locale, act, "result", release_held=False)
    if buttons:
        lines.append(m.buttons(*buttons))
    return m.card(t("addon.encrypted.title", locale), [
        m.section(lines),
        m.section([m.text(t("addon.sent.close", locale))]),
    ], subtitle=t("addon.encrypted.link_name", locale) if link else package.zip_filename,
        name="encrypted")


def packages_section(packages: Sequence[Package], zone: tzinfo, now: datetime, locale: str,
                     act: Act, *, notice: str | None = None) -> Json:
    """The home card's list: one entry and its buttons per recent package."""
    widgets: list[Json] = []
    if notice:
        widgets.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    for p in packages[:HOME_PACKAGES]:
        top = t("addon.package.created", locale, state=state_name(p, now, locale),
                at=local_time(p.created_at, zone, now))
        # Told apart by who it went to, which files and when (local time); subjects are
        # not stored (storage keeps only a digest of them).
        to = join_list(sorted(p.recipients), locale, limit=2)
        files = join_list(list(p.file_names), locale, limit=2)
        widgets.append(m.decorated(
            t("addon.package.line.to", locale, to=to, zip_name=files or p.zip_filename),
            top=top, bottom=state_text(p, zone, now, locale)))
        buttons = package_buttons(p, now, locale, act, "home", release_held=True)
        if buttons:
            widgets.append(m.buttons(*buttons))
    return m.section(widgets, t("addon.home.packages", locale,
                                n=min(len(packages), HOME_PACKAGES)))
