"""The stamp itself (SPEC 10.5): header shape, MAC coverage, parsing, classification."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from service.errors import ConfigError
from service.stamp.header import NAME, StampFormatError, mint, parse, stamp_values
from service.stamp.keys import load_or_create, parse_stamp_keys
from service.stamp.verify import ABSENT, ALTERED, FORGED, REPLAYED, VALID, MintRecord, Verifier

from .helpers import KEY_A, KEY_B, NOW, SENDER, keys, message, minted, nonce, record

HEADER = re.compile(rb"^X-SendGuard-Checked: v1; k=2026a; t=\d+; n=[A-Za-z0-9_-]{16,64}; "
                    rb"h=[A-Za-z0-9_-]{43}\r?\n", re.MULTILINE)


def verifier(*records: MintRecord, key: str = KEY_A, now: int = NOW) -> Verifier:
    table = {r.nonce: r for r in records}
    return Verifier(keys(key), table.get, now)


def test_mint_writes_exactly_one_header_and_changes_nothing_else() -> None:
    raw = message()
    m = minted(raw)
    assert len(HEADER.findall(m.raw)) == 1
    assert HEADER.sub(b"", m.raw, count=1) == raw
    assert m.envelope.sender == SENDER
    assert m.envelope.recipients == ("kiroku@corp.example.jp", "suzuki@corp.example.jp",
                                     "tanaka@partner.example.com")
    assert m.stamp.time == NOW and m.stamp.key_id == "2026a"


def test_mint_replaces_a_stamp_copied_from_an_older_message() -> None:
    old = minted(n=1).raw
    again = mint(old, keys(), NOW + 5, nonce(2))
    assert len(stamp_values(again.raw)) == 1
    assert again.stamp.nonce == nonce(2)


def test_mac_ignores_message_id_which_gmail_rewrites() -> None:
    m = minted()
    rewritten = m.raw.replace(b"<m1@corp.example.jp>", b"<CAF+gmail-rewrote@mail.gmail.com>")
    assert verifier(record(m)).check(rewritten).status == VALID


def test_lf_line_ends_of_an_mbox_export_still_verify() -> None:
    m = minted()
    assert verifier(record(m)).check(m.raw.replace(b"\r\n", b"\n")).status == VALID


def _swap(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def change(raw: bytes) -> bytes:
        assert old in raw
        return raw.replace(old, new, 1)
    return change


ALTERATIONS = {
    "body edited": (_swap("見積書".encode(), "請求書".encode()), "body"),
    "recipient added": (_swap(b"To: tanaka@partner.example.com",
                              b"To: tanaka@partner.example.com, spy@evil.example"), "recipients"),
    "recipient removed": (_swap(b"Cc: suzuki@corp.example.jp\n", b""), "recipients"),
    "bcc added": (_swap(b"Bcc: kiroku@corp.example.jp",
                        b"Bcc: kiroku@corp.example.jp, x@y.example"), "recipients"),
    "sender changed": (_swap(SENDER.encode(), b"yamada@corp.example.jp"), "sender"),
}


@pytest.mark.parametrize("name", list(ALTERATIONS))
def test_altered_messages_are_found(name: str) -> None:
    change, what = ALTERATIONS[name]
    m = minted(message(body="田中様\n見積書をお送りします。\n"))
    raw = change(m.raw.replace(b"\r\n", b"\n"))
    verdict = verifier(record(m)).check(raw)
    assert verdict.status == ALTERED
    assert what in verdict.reason


def test_a_delivered_copy_without_bcc_verifies_from_the_audit() -> None:
    m = minted()
    delivered = m.raw.replace(b"Bcc: kiroku@corp.example.jp\r\n", b"")
    assert delivered != m.raw
    assert verifier(record(m)).check(delivered).status == VALID
    # without the audit record the Bcc cannot be restored: not valid
    assert verifier().check(delivered).status == ALTERED


def test_unknown_key_and_unminted_nonce_are_forged() -> None:
    m = minted(key=KEY_B)
    assert verifier(record(m)).check(m.raw).status == FORGED      # key 2025b not configured
    assert "unknown key id" in verifier(record(m)).check(m.raw).reason
    own = minted()
    verdict = verifier().check(own.raw)                            # valid MAC, never minted
    assert verdict.status == FORGED and "never minted" in verdict.reason


def test_rotation_old_key_still_verifies() -> None:
    m = minted(key=KEY_B)
    both = Verifier(keys(f"{KEY_A},{KEY_B}"), {record(m).nonce: record(m)}.get, NOW)
    assert both.check(m.raw).status == VALID
    assert keys(f"{KEY_A},{KEY_B}").signing_id == "2026a"


def test_a_second_message_with_the_same_nonce_is_replayed_but_a_copy_is_not() -> None:
    m = minted()
    v = verifier(record(m))
    assert v.check(m.raw).status == VALID
    assert v.check(m.raw).status == VALID            # the recipient's copy: same Message-ID
    resent = m.raw.replace(b"<m1@corp.example.jp>", b"<m2@corp.example.jp>")
    assert v.check(resent).status == REPLAYED


def test_absent() -> None:
    assert verifier().check(message()).status == ABSENT


def test_future_time_is_forged() -> None:
    m = minted(now=NOW + 3600)
    verdict = verifier(record(m)).check(m.raw)
    assert verdict.status == FORGED and "future" in verdict.reason


def _with_header(value: str) -> bytes:
    return f"{NAME}: {value}\n".encode() + message().replace(b"\r\n", b"\n")


MAC = "A" * 43
MALFORMED = {
    "empty": "",
    "other version": f"v2; k=a; t=1; n={'n' * 22}; h={MAC}",
    "no mac": f"v1; k=a; t=1; n={'n' * 22}",
    "field twice": f"v1; k=a; k=b; t=1; n={'n' * 22}; h={MAC}",
    "unknown field": f"v1; k=a; t=1; n={'n' * 22}; h={MAC}; x=1",
    "time not a number": f"v1; k=a; t=soon; n={'n' * 22}; h={MAC}",
    "short nonce": f"v1; k=a; t=1; n=abc; h={MAC}",
    "short mac": f"v1; k=a; t=1; n={'n' * 22}; h=abc",
    "not base64url": f"v1; k=a; t=1; n={'n' * 22}; h={'+' * 43}",
    "garbage": "\x00\x01 ;;; ==",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_stamps_are_forged_with_a_reason(name: str) -> None:
    with pytest.raises(StampFormatError):
        parse(MALFORMED[name])
    verdict = verifier().check(_with_header(MALFORMED[name]))
    assert verdict.status == FORGED
    assert verdict.reason.startswith("malformed stamp: ")


def test_two_stamp_headers_are_altered() -> None:
    m = minted()
    doubled = m.raw.split(b"\n", 1)[0] + b"\n" + m.raw
    verdict = verifier(record(m)).check(doubled)
    assert verdict.status == ALTERED and "2 X-SendGuard-Checked headers" in verdict.reason


def test_parse_round_trip_and_whitespace() -> None:
    m = minted()
    assert parse(m.stamp.value()) == m.stamp
    assert parse("  " + m.stamp.value().replace("; ", ";\t ") + " ") == m.stamp


BAD_KEYS = {
    "empty": ("", "is empty"),
    "no id": ("11" * 32, "<key id>:"),
    "bad id": ("a b:" + "11" * 32, "key id"),
    "not hex": ("a:" + "zz" * 32, "not hexadecimal"),
    "short": ("a:" + "11" * 16, "16 bytes"),
    "same id twice": (f"a:{'11' * 32},a:{'22' * 32}", "twice"),
    "trailing comma": (f"{KEY_A},", "key 2 of 2 must be"),
}


@pytest.mark.parametrize("name", list(BAD_KEYS))
def test_bad_keys_are_named_never_shown(name: str) -> None:
    value, needle = BAD_KEYS[name]
    with pytest.raises(ConfigError) as err:
        parse_stamp_keys(value)
    assert needle in err.value.public_message
    assert "11" * 32 not in err.value.public_message


def test_dev_key_is_created_once_owner_only(tmp_path: object) -> None:
    from pathlib import Path

    var = Path(str(tmp_path)) / "var"
    first = load_or_create(var)
    assert (var / "stamp.key").stat().st_mode & 0o777 == 0o600
    assert load_or_create(var) == first
    assert repr(first).count("11") == 0 and "secret" not in repr(first).lower()


def test_a_stamp_key_in_a_log_line_is_redacted() -> None:
    from service.logs import redact

    line = redact(f"SENDGUARD_STAMP_KEY={KEY_A},{KEY_B}")
    assert "11" * 32 not in line and "22" * 32 not in line
