"""The small secrets of key delivery: codes, link tokens, sealed key material, CSRF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.delivery import codes, csrf
from service.delivery.material import KeyMaterial, link_token, well_formed_token
from service.settings import Config
from service.storage import hash_token

TOKEN = "d8lSyscvjK5jPYPajGFbwhzudmGhd2-oF5MfGBzngRM"


def test_codes_are_eight_digits_and_vary() -> None:
    made = {codes.new_code() for _ in range(2000)}
    assert all(re.fullmatch(r"\d{8}", c) for c in made)
    assert len(made) > 1990                       # 10^8 space: collisions are rare
    assert any(c.startswith("0") for c in made)   # leading zeros kept


@pytest.mark.parametrize("typed,expected", [
    ("12345678", "12345678"), (" 1234 5678 ", "12345678"), ("1234-5678", "12345678"),
    ("１２３４５６７８", "12345678"), ("1234567", None), ("123456789", None),
    ("1234567a", None), ("", None), ("٠١٢٣٤٥٦٧", None), ("12345678\x00", None),
], ids=["plain", "spaces", "dash", "full-width", "short", "long", "letter", "empty",
        "arabic-indic", "nul"])
def test_normalise(typed: str, expected: str | None) -> None:
    assert codes.normalise(typed) == expected


def test_code_hash_is_keyed_by_the_link_token() -> None:
    stored = codes.code_hash(TOKEN, "12345678")
    assert len(stored) == 32 and stored != codes.code_hash(TOKEN[::-1], "12345678")
    assert codes.matches(TOKEN, "1234 5678", stored)
    assert not codes.matches(TOKEN, "12345679", stored)
    assert not codes.matches(TOKEN[::-1], "12345678", stored)
    assert not codes.matches(TOKEN, "12345678", None)
    assert not codes.matches(TOKEN, "garbage", stored)


def test_link_tokens_are_derived_256_bit_and_per_address() -> None:
    material = KeyMaterial.new("pw")
    a = material.link_token("Tanaka@Partner.example.com")
    assert a == material.link_token("tanaka@partner.example.com")
    assert a != material.link_token("suzuki@partner.example.com")
    assert a != KeyMaterial.new("pw").link_token("tanaka@partner.example.com")
    assert well_formed_token(a) and len(a) == 43
    assert link_token(material.link_seed, "x@y.example") == material.link_token("x@y.example")
    assert hash_token(a) != a.encode()
    assert "pw" not in repr(material) and material.link_seed.hex() not in repr(material)


@pytest.mark.parametrize("token,ok", [
    (TOKEN, True), (TOKEN[:-1], False), (TOKEN + "A", False), (TOKEN[:-1] + "=", False),
    (TOKEN[:-1] + "é", False), (TOKEN[:-1] + "/", False),
], ids=["good", "short", "long", "padding", "non-ascii", "slash"])
def test_well_formed_token(token: str, ok: bool) -> None:
    assert well_formed_token(token) is ok


def test_csrf_tokens_bind_nonce_link_and_secret() -> None:
    secret = b"s" * 32
    nonce = csrf.new_nonce()
    form = csrf.form_token(secret, TOKEN, nonce)
    assert csrf.valid(secret, TOKEN, nonce, form)
    assert not csrf.valid(secret, TOKEN, csrf.new_nonce(), form)       # another browser
    assert not csrf.valid(secret, TOKEN[::-1], nonce, form)            # another link
    assert not csrf.valid(b"t" * 32, TOKEN, nonce, form)               # another server key
    for bad in (None, "", "x" * 500, "ünïcode"):
        assert not csrf.valid(secret, TOKEN, nonce, bad)
    assert not csrf.valid(secret, TOKEN, None, form)


def test_server_secret_sources(tmp_path: Path) -> None:
    key = "11" * 32
    derived = csrf.server_secret(Config(master_key=f"{key},{'22' * 32}"))
    assert len(derived) == 32 and derived != bytes.fromhex(key)
    assert derived == csrf.server_secret(Config(master_key=key))       # the first key
    dev = Config(var_dir=tmp_path / "var")
    first = csrf.server_secret(dev)
    assert len(first) == 32 and (tmp_path / "var" / "master.key").exists()
    assert csrf.server_secret(dev) == first
    kms_only = Config(kms_key="projects/p/locations/l/keyRings/r/cryptoKeys/k")
    assert csrf.server_secret(kms_only) == b""
