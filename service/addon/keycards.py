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
from service.i18n import N_, _, join_list, ngettext

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


RELEASE_MODES = {"delay": N_("addon.keys.mode.delay"), "manual": N_("addon.keys.mode.manual"),
                 "sender_only": N_("addon.keys.mode.sender_only")}
STATE_NAMES = {
    "awaiting_release": N_("addon.package.state_name.awaiting_release"),
    "expired": N_("addon.package.state_name.expired"),
    "held": N_("addon.package.state_name.held"),
    "released": N_("addon.package.state_name.released"),
    "revoked": N_("addon.package.state_name.revoked"),
}
# What a package's state means for its password (states with nothing more to say).
STATES = {"awaiting_release": N_("addon.package.state.awaiting_release"),
          "revoked": N_("addon.package.state.revoked"),
          "expired": N_("addon.package.state.expired")}


def _mode_text(policy: Policy, sender: str) -> str:
    delay = duration(policy.release_delay)
    return _(RELEASE_MODES[policy.release_mode], delay=delay, sender=sender)


def key_card(exp: Expectation, subject: str, draft_id: str, attachments: Sequence[str],
             policy: Policy, sender: str, act: Act, *,
             notice: str | None = None) -> Json:
    """Tick who gets the password; the footer encrypts and sends."""
    intro = [m.decorated(subject or _("addon.confirm.no_subject"),
                         top=_("addon.confirm.subject", subject="").strip())]
    if notice:
        intro.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    if policy.release_mode != "sender_only":
        intro.append(m.text(_("addon.keys.intro")))
    intro.append(m.decorated(_mode_text(policy, sender),
                             top=_("addon.keys.mode.title")))
    sections = [m.section(intro)]
    sections.append(m.section([m.radio(
        METHOD_INPUT, _("addon.keys.method.label"),
        [(_("addon.keys.method.zip"), "zip"),
         (_("addon.keys.method.link"), "link")], policy.delivery_method)]))
    offered = offered_keys(exp, policy.release_mode)
    for external in (True, False):
        items = []
        for g in exp.groups:
            if g.external != external:
                continue
            fields = field_names(g.field_list())
            for a in g.addresses:
                if key_value(a) not in offered:
                    continue
                label = (_("addon.confirm.recipient.external", address=a, field=fields,
                           domain=g.domain) if external else
                         _("addon.confirm.recipient", address=a, field=fields))
                items.append((label, key_value(a)))
        if items:
            head = (N_("addon.confirm.external_section") if external
                    else N_("addon.confirm.internal_section"))
            sections += _checkbox_sections(f"{KEY_INPUT}_{'ext' if external else 'int'}",
                                           _("addon.keys.label"), items,
                                           _(head, n=len(items)))
    files = capped([m.text(n) for n in attachments], FINDINGS_SHOWN)
    sections.append(m.section(files, _("addon.keys.files", n=len(attachments)),
                              collapsible_after=5))
    foot = m.footer(
        m.button(_("addon.button.encrypt_send"),
                 act("encrypt_send", draft_id=draft_id, fp=exp.fingerprint)),
        m.button(_("addon.button.recheck"), act("check_send", draft_id=draft_id)))
    return m.card(_("addon.keys.title"), sections, footer=foot, name="encrypt_keys")


# --------------------------------------------------------------------------- packages


def active(package: Package, now: datetime) -> bool:
    return package.state in REVOCABLE and package.expires_at > now


def state_name(package: Package, now: datetime) -> str:
    state = package.state if active(package, now) or package.state not in REVOCABLE \
        else "expired"
    return _(STATE_NAMES[state])


def state_text(package: Package, zone: tzinfo, now: datetime) -> str:
    """Where the password is, in words: held until 14:35, awaiting release, ..."""
    from service.delivery.release import message_sent

    if package.state in REVOCABLE and package.expires_at <= now:
        return _("addon.package.state.expired")
    sender_only = package.release_mode == "sender_only"
    if package.state == "held":
        if not message_sent(package):
            return _("addon.package.state.unconfirmed")
        at = local_time(package.release_at or now, zone, now)
        return (_("addon.package.state.held_sender", at=at) if sender_only
                else _("addon.package.state.held", at=at))
    if package.state == "released":
        if not message_sent(package):        # released, but its message is not known sent
            return _("addon.package.state.released_unconfirmed")
        at = local_time(package.released_at or now, zone, now)
        return (_("addon.package.state.released_sender", at=at) if sender_only
                else _("addon.package.state.released", at=at))
    return _(STATES[package.state])


def package_buttons(package: Package, now: datetime, act: Act, view: str, *,
                    release_held: bool) -> list[Json]:
    """Revoke and Release now, where they still apply; ``release_held``: also before the
    delay ends (the home card), not only in manual mode."""
    out = []
    if active(package, now):
        out.append(m.button(_("addon.button.revoke"),
                            act("revoke_package", package_id=package.id, view=view)))
        if package.state == "awaiting_release" or (release_held and package.state == "held"):
            out.append(m.button(_("addon.button.release"),
                                act("release_package", package_id=package.id, view=view)))
    return out


def result_card(package: Package, grants: Sequence[str], zone: tzinfo, now: datetime,
                act: Act, *, notice: str | None = None) -> Json:
    """After Encrypt & send: what left, where the password is, Revoke / Release now."""
    lines = []
    if notice:
        lines.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    link = package.zip_filename == LINK_ZIP_NAME
    files = len(package.file_names)
    if link:
        text = ngettext("addon.encrypted.link_text.one", "addon.encrypted.link_text",
                        len(package.recipients), file_count=ngettext(
                            "addon.encrypted.link_text.files.one",
                            "addon.encrypted.link_text.files", files, files=files))
    else:
        text = ngettext("addon.encrypted.text.one", "addon.encrypted.text",
                        len(package.recipients), zip_name=package.zip_filename,
                        file_count=ngettext("addon.encrypted.text.files.one",
                                            "addon.encrypted.text.files", files, files=files))
    lines.append(m.text(text))
    lines.append(m.decorated(state_text(package, zone, now),
                             top=state_name(package, now)))
    lines.append(m.text(_("addon.package.key_to",
                          addresses=join_list(list(grants), limit=10))
                        if grants else _("addon.package.key_to_none")))
    if active(package, now) and package.state == "held":
        lines.append(m.text(_("addon.package.held_help")))
    buttons = package_buttons(package, now, act, "result", release_held=False)
    if buttons:
        lines.append(m.buttons(*buttons))
    return m.card(_("addon.encrypted.title"), [
        m.section(lines),
        m.section([m.text(_("addon.sent.close"))]),
    ], subtitle=_("addon.encrypted.link_name") if link else package.zip_filename,
        name="encrypted")


def packages_section(packages: Sequence[Package], zone: tzinfo, now: datetime,
                     act: Act, *, notice: str | None = None) -> Json:
    """The home card's list: one entry and its buttons per recent package."""
    widgets: list[Json] = []
    if notice:
        widgets.append(m.paragraph("<b>" + m.esc(notice) + "</b>"))
    for p in packages[:HOME_PACKAGES]:
        top = _("addon.package.created", state=state_name(p, now),
                at=local_time(p.created_at, zone, now))
        # Told apart by who it went to, which files and when (local time); subjects are
        # not stored (storage keeps only a digest of them).
        to = join_list(sorted(p.recipients), limit=2)
        files = join_list(list(p.file_names), limit=2)
        widgets.append(m.decorated(
            _("addon.package.line.to", to=to, zip_name=files or p.zip_filename),
            top=top, bottom=state_text(p, zone, now)))
        buttons = package_buttons(p, now, act, "home", release_held=True)
        if buttons:
            widgets.append(m.buttons(*buttons))
    return m.section(widgets, _("addon.home.packages",
                                n=min(len(packages), HOME_PACKAGES)))
