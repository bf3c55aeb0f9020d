"""The policy loader: SPEC section 3 keys and defaults, and errors that name key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.errors import PolicyError
from service.policy.policyfile import DEFAULT_BLOCKED_EXTENSIONS, Policy, load_policy, parse_policy


def test_defaults_match_spec() -> None:
    p = parse_policy("")
    assert p.internal_domains == () and p.trusted_domains == ()
    assert (p.max_visible_external, p.max_visible_external_orgs, p.max_bcc) == (10, 1, 50)
    assert p.confidential_keywords[0] == "社外秘" and "Internal only" in p.confidential_keywords
    assert p.personal_data_threshold == 10
    assert p.require_encryption_external is False
    assert p.blocked_extensions == DEFAULT_BLOCKED_EXTENSIONS
    assert (p.release_mode, p.release_delay, p.key_expiry) == ("delay", 300, 7 * 86400)


def test_full_policy() -> None:
    p = parse_policy("""
[organization]
internal_domains = ["Example.CO.JP", "日本語.jp"]
trusted_domains = ["partner.co.jp"]
[recipients]
max_visible_external = 3
blocked_domains = ["rival.co.jp", "x@gmail.com"]
[content]
confidential_keywords = ["機密"]
[attachments]
require_encryption_external = true
blocked_extensions = ["exe", ".ISO"]
[delivery]
release_mode = "manual"
release_delay = "10m"
key_expiry = "3d"
""")
    assert p.internal_domains == ("example.co.jp", "xn--wgv71a119e.jp")
    assert p.max_visible_external == 3
    assert p.blocked_extensions == (".exe", ".iso")
    assert p.require_encryption_external is True
    assert (p.release_mode, p.release_delay, p.key_expiry) == ("manual", 600, 3 * 86400)


BAD = [
    ("unknown-key", "[recipients]\nmax_visible = 3\n", "recipients.max_visible", 2),
    ("unknown-section", "# c\n\n[recipient]\nmax_bcc = 3\n", "recipient", 3),
    ("top-level-key", "\n\nmax_bcc = 3\n", "max_bcc", 3),
    ("wrong-type-int", "[recipients]\n\nmax_bcc = \"50\"\n", "recipients.max_bcc", 3),
    ("bool-as-int", "[recipients]\nmax_bcc = true\n", "recipients.max_bcc", 2),
    ("negative", "[content]\npersonal_data_threshold = -1\n", "content.personal_data_threshold",
     2),
    ("list-of-int", "[organization]\ninternal_domains = [1]\n",
     "organization.internal_domains", 2),
    ("string-not-list", "[organization]\ninternal_domains = \"a.jp\"\n",
     "organization.internal_domains", 2),
    ("bad-domain", "[organization]\ntrusted_domains = [\"not a domain\"]\n",
     "organization.trusted_domains", 2),
    ("bool-wrong", "[attachments]\nrequire_encryption_external = \"yes\"\n",
     "attachments.require_encryption_external", 2),
    ("bad-mode", "[delivery]\nrelease_mode = \"never\"\n", "delivery.release_mode", 2),
    ("bad-duration", "[delivery]\nrelease_delay = \"5 minutes\"\n", "delivery.release_delay", 2),
    ("dotted-key", "recipients.max_bcc = \"x\"\n", "recipients.max_bcc", 1),
    ("deadline-zero", "[attachments]\ncheck_deadline = 0\n", "attachments.check_deadline", 2),
    ("deadline-huge", "[attachments]\ncheck_deadline = \"1h\"\n", "attachments.check_deadline",
     2),
    ("deadline-words", "[attachments]\ncheck_deadline = \"ten\"\n",
     "attachments.check_deadline", 2),
]


@pytest.mark.parametrize("value,seconds", [("3", 3), ('"30s"', 30), ('"50s"', 50)],
                         ids=["number", "seconds", "minutes"])
def test_check_deadline(value: str, seconds: int) -> None:
    assert Policy().check_deadline == 10
    assert parse_policy(f"[attachments]\ncheck_deadline = {value}\n").check_deadline == seconds


@pytest.mark.parametrize("text,key,line", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_policy_names_key_and_line(text: str, key: str, line: int) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(text, source="p.toml")
    assert err.value.key == key
    assert err.value.line == line
    assert f"p.toml:{line}" in str(err.value) and key in str(err.value)


@pytest.mark.parametrize("text,line", [
    ("[recipients]\nmax_bcc = \n", 2),
    ("[recipients\n", 1),
    ("a = 1\na = 2\n", 2),
], ids=["no-value", "unclosed-table", "duplicate-key"])
def test_invalid_toml_names_line(text: str, line: int) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(text, source="p.toml")
    assert err.value.line == line and "invalid TOML" in str(err.value)


def test_load_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policy(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe[")
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(bad)
    assert load_policy(None) == Policy()


def test_second_wave_defaults_match_spec() -> None:
    p = parse_policy("")
    assert p.caution_domains == () and p.blocked_keywords == ()
    assert p.check_internal is False
    assert p.max_total_size == 10 * 1024 * 1024
    assert p.history_enabled is True
    assert p.delivery_method == "zip"


SECOND_WAVE = [
    ("size-mb", '[attachments]\nmax_total_size = "25MB"\n', "max_total_size", 25 * 1024 ** 2),
    ("size-kb-lower", '[attachments]\nmax_total_size = "500kb"\n', "max_total_size",
     500 * 1024),
    ("size-gib", '[attachments]\nmax_total_size = "2 GiB"\n', "max_total_size", 2 * 1024 ** 3),
    ("size-bytes", "[attachments]\nmax_total_size = 1000\n", "max_total_size", 1000),
    ("size-decimal", '[attachments]\nmax_total_size = "1.5MB"\n', "max_total_size",
     int(1.5 * 1024 ** 2)),
    ("history-off", "[history]\nenabled = false\n", "history_enabled", False),
    ("link-mode", '[delivery]\nmethod = "link"\n', "delivery_method", "link"),
    ("zip-mode", '[delivery]\nmethod = "zip"\n', "delivery_method", "zip"),
    ("check-internal", "[content]\ncheck_internal = true\n", "check_internal", True),
    ("blocked-keywords", '[content]\nblocked_keywords = ["持出禁止"]\n', "blocked_keywords",
     ("持出禁止",)),
    ("caution", '[recipients]\ncaution_domains = ["Rival.CO.JP"]\n', "caution_domains",
     ("rival.co.jp",)),
]


@pytest.mark.parametrize(("text", "field", "value"), [c[1:] for c in SECOND_WAVE],
                         ids=[c[0] for c in SECOND_WAVE])
def test_second_wave_keys(text: str, field: str, value: object) -> None:
    assert getattr(parse_policy(text), field) == value


BAD_SECOND_WAVE = [
    ("size-words", '[attachments]\nmax_total_size = "ten megabytes"\n',
     "attachments.max_total_size", 2),
    ("size-negative", "[attachments]\n\nmax_total_size = -1\n", "attachments.max_total_size",
     3),
    ("size-bool", "[attachments]\nmax_total_size = true\n", "attachments.max_total_size", 2),
    ("method-unknown", '[delivery]\nmethod = "ftp"\n', "delivery.method", 2),
    ("history-string", '[history]\nenabled = "yes"\n', "history.enabled", 2),
    ("history-unknown-key", "[history]\nkeep = 3\n", "history.keep", 2),
    ("check-internal-int", "[content]\ncheck_internal = 1\n", "content.check_internal", 2),
    ("blocked-keywords-string", '[content]\nblocked_keywords = "x"\n',
     "content.blocked_keywords", 2),
    ("caution-bad-entry", '[recipients]\ncaution_domains = ["a b"]\n',
     "recipients.caution_domains", 2),
]


@pytest.mark.parametrize("text,key,line", [b[1:] for b in BAD_SECOND_WAVE],
                         ids=[b[0] for b in BAD_SECOND_WAVE])
def test_bad_second_wave_keys_name_key_and_line(text: str, key: str, line: int) -> None:
    with pytest.raises(PolicyError) as err:
        parse_policy(text, source="p.toml")
    assert err.value.key == key and err.value.line == line
