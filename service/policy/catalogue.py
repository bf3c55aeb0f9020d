"""The message ids the policy core looks up by code, and rendering a finding's message.

Ids built from a code (``finding.<code>``, ``note.<code>``, ...) are listed here with
``N_`` so ``pybabel extract`` finds them and a test can check each has its text in both
catalogues; the texts are in ``service/locale``.
"""

from __future__ import annotations

from typing import Any

from service.i18n import N_, N_plural, _, ngettext

# Findings whose message depends on a count ``n``: (singular id, plural id).
PLURAL_FINDINGS = {
    "external_recipients": N_plural("finding.external_recipients.one",
                                    "finding.external_recipients"),
    "personal_address_visible": N_plural("finding.personal_address_visible.one",
                                         "finding.personal_address_visible"),
    "name_address_mismatch": N_plural("finding.name_address_mismatch.one",
                                      "finding.name_address_mismatch"),
    "similar_recipient": N_plural("finding.similar_recipient.one",
                                  "finding.similar_recipient"),
}
FINDINGS = {
    "blocked_attachment": N_("finding.blocked_attachment"),
    "blocked_keyword": N_("finding.blocked_keyword"),
    "blocked_recipient": N_("finding.blocked_recipient"),
    "caution_recipient": N_("finding.caution_recipient"),
    "confidential_keyword": N_("finding.confidential_keyword"),
    "cross_domain_exposure": N_("finding.cross_domain_exposure"),
    "first_time_recipient": N_("finding.first_time_recipient"),
    "incomplete_check": N_("finding.incomplete_check"),
    "invalid_address": N_("finding.invalid_address"),
    "large_attachment": N_("finding.large_attachment"),
    "lookalike_domain": N_("finding.lookalike_domain"),
    "many_bcc_recipients": N_("finding.many_bcc_recipients"),
    "many_visible_recipients": N_("finding.many_visible_recipients"),
    "missing_attachment": N_("finding.missing_attachment"),
    "missing_required_bcc": N_("finding.missing_required_bcc"),
    "new_domain_in_reply": N_("finding.new_domain_in_reply"),
    "password_zip_attached": N_("finding.password_zip_attached"),
    "personal_data": N_("finding.personal_data"),
    "personal_data_partial": N_("finding.personal_data_partial"),
    "salutation_mismatch": N_("finding.salutation_mismatch"),
    "unencrypted_attachment": N_("finding.unencrypted_attachment"),
}
# What to do about a finding, by code; codes without one get ``hint.default``.
HINTS = {
    "blocked_attachment": N_("hint.blocked_attachment"),
    "blocked_keyword": N_("hint.blocked_keyword"),
    "blocked_recipient": N_("hint.blocked_recipient"),
    "caution_recipient": N_("hint.caution_recipient"),
    "confidential_keyword": N_("hint.confidential_keyword"),
    "cross_domain_exposure": N_("hint.cross_domain_exposure"),
    "external_recipients": N_("hint.external_recipients"),
    "first_time_recipient": N_("hint.first_time_recipient"),
    "incomplete_check": N_("hint.incomplete_check"),
    "invalid_address": N_("hint.invalid_address"),
    "large_attachment": N_("hint.large_attachment"),
    "lookalike_domain": N_("hint.lookalike_domain"),
    "many_bcc_recipients": N_("hint.many_bcc_recipients"),
    "many_visible_recipients": N_("hint.many_visible_recipients"),
    "missing_attachment": N_("hint.missing_attachment"),
    "missing_required_bcc": N_("hint.missing_required_bcc"),
    "name_address_mismatch": N_("hint.name_address_mismatch"),
    "new_domain_in_reply": N_("hint.new_domain_in_reply"),
    "password_zip_attached": N_("hint.password_zip_attached"),
    "personal_address_visible": N_("hint.personal_address_visible"),
    "personal_data": N_("hint.personal_data"),
    "salutation_mismatch": N_("hint.salutation_mismatch"),
    "similar_recipient": N_("hint.similar_recipient"),
    "unencrypted_attachment": N_("hint.unencrypted_attachment"),
}
# Notes on what was not checked ("code:path"); an unknown code gets ``note.other``.
NOTES = {
    "analysis_failed": N_("note.analysis_failed"),
    "bad_encoding": N_("note.bad_encoding"),
    "body_truncated": N_("note.body_truncated"),
    "busy": N_("note.busy"),
    "corrupt": N_("note.corrupt"),
    "deadline": N_("note.deadline"),
    "encrypted_member": N_("note.encrypted_member"),
    "enough": N_("note.enough"),
    "header_truncated": N_("note.header_truncated"),
    "mime_too_deep": N_("note.mime_too_deep"),
    "mime_too_many_parts": N_("note.mime_too_many_parts"),
    "too_deep": N_("note.too_deep"),
    "too_large": N_("note.too_large"),
    "too_many_entries": N_("note.too_many_entries"),
    "too_many_recipients": N_("note.too_many_recipients"),
    "truncated": N_("note.truncated"),
    "unsupported": N_("note.unsupported"),
    "zip_bomb": N_("note.zip_bomb"),
}
FIELDS = {"to": N_("field.to"), "cc": N_("field.cc"), "bcc": N_("field.bcc")}
PLACES = {
    "subject": N_("place.subject"), "body": N_("place.body"),
    "message": N_("place.message"), "recipients": N_("place.recipients"),
}
SEVERITIES = {"block": N_("severity.block"), "warn": N_("severity.warn"),
              "info": N_("severity.info")}
REASONS = {
    "empty": N_("reason.empty"),
    "fullwidth_at": N_("reason.fullwidth_at"),
    "invalid_domain": N_("reason.invalid_domain"),
    "missing_separator": N_("reason.missing_separator"),
    "name_is_address": N_("reason.name_is_address"),
    "newline": N_("reason.newline"),
    "no_domain": N_("reason.no_domain"),
    "syntax": N_("reason.syntax"),
}
PROTECTIONS = {"zip": N_("protection.zip"), "office": N_("protection.office"),
               "pdf": N_("protection.pdf")}
KINDS = {"emails": N_("kind.emails"), "phones": N_("kind.phones"),
         "my_numbers": N_("kind.my_numbers"), "cards": N_("kind.cards")}


def finding_text(code: str, params: dict[str, Any]) -> str:
    """The message of a finding ``code`` from its parameters, in the current language."""
    if code in PLURAL_FINDINGS:
        one, other = PLURAL_FINDINGS[code]
        extra: dict[str, Any] = {}
        if code == "external_recipients":
            d = params["d"]
            extra["in_domains"] = ngettext("finding.external_recipients.domains.one",
                                           "finding.external_recipients.domains", d, d=d)
        return ngettext(one, other, params["n"], **params, **extra)
    return _(FINDINGS.get(code, "finding." + code), **params)


def hint_text(code: str) -> str:
    """What to do about a finding ``code``; ``hint.default`` where none is written."""
    key = HINTS.get(code)
    return _(key if key is not None else "hint.default")
