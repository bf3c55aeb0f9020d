"""Password wrapping: AES-GCM round trip, rotation, tampering, bound records, config."""

from __future__ import annotations

import base64
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from service.errors import ConfigError, SecretError, SendGuardError
from service.protect.keywrap import (
    KmsKeyWrapper,
    LocalKeyWrapper,
    MigratingKeyWrapper,
    key_id,
    load_or_create_dev_key,
    wrapper_from_config,
)
from service.settings import Config
from tests.support.kms import KMS_NAME, KmsStandIn, kms_stand_in

OLD = secrets.token_hex(32)
NEW = secrets.token_hex(32)
AAD = b"package:pkg_0001"
SECRET = b"Xk7p-Q3mR-Zu9W-aB4c-Hn6e-Tt"


def test_round_trip_and_fresh_nonce() -> None:
    wrapper = LocalKeyWrapper(NEW)
    one, two = wrapper.wrap(SECRET, AAD), wrapper.wrap(SECRET, AAD)
    assert one != two and SECRET not in one
    assert wrapper.unwrap(one, AAD) == wrapper.unwrap(two, AAD) == SECRET
    assert one[0] == 1 and one[1:9] == key_id(bytes.fromhex(NEW)) and len(one) == 9 + 12 + 27 + 16


def test_rotation_first_key_encrypts_all_keys_decrypt() -> None:
    old_blob = LocalKeyWrapper(OLD).wrap(SECRET, AAD)
    rotated = LocalKeyWrapper(f"{NEW}, {OLD}")
    assert rotated.unwrap(old_blob, AAD) == SECRET
    new_blob = rotated.wrap(SECRET, AAD)
    assert new_blob[1:9] == key_id(bytes.fromhex(NEW)) == rotated.primary_key_id
    assert LocalKeyWrapper(NEW).unwrap(new_blob, AAD) == SECRET
    with pytest.raises(SecretError):
        LocalKeyWrapper(OLD).unwrap(new_blob, AAD)
    with pytest.raises(SecretError):
        LocalKeyWrapper(NEW).unwrap(old_blob, AAD)   # old key retired: old blobs are gone


def _flip(blob: bytes, at: int) -> bytes:
    return blob[:at] + bytes([blob[at] ^ 0x01]) + blob[at + 1:]


@pytest.mark.parametrize("mutate", [
    lambda b: _flip(b, 0),
    lambda b: _flip(b, 3),
    lambda b: _flip(b, 12),
    lambda b: _flip(b, 25),
    lambda b: _flip(b, len(b) - 1),
    lambda b: b[:-1],
    lambda b: b[:20],
    lambda b: b"",
    lambda b: b + b"\x00",
], ids=["version", "key-id", "nonce", "ciphertext", "tag", "truncated-tag", "truncated",
        "empty", "appended"])
def test_tampered_blob_is_one_opaque_secret_error(mutate: object) -> None:
    wrapper = LocalKeyWrapper(NEW)
    blob = mutate(wrapper.wrap(SECRET, AAD))  # type: ignore[operator]
    with pytest.raises(SecretError) as info:
        wrapper.unwrap(blob, AAD)
    assert str(info.value) == "invalid or expired link or code"
    assert info.value.__cause__ is None
    assert info.value.__context__ is None or info.value.__suppress_context__


@pytest.mark.parametrize("aad", [b"package:pkg_0002", b"", AAD + b"x", AAD.upper()],
                         ids=["other-record", "empty", "extended", "case"])
def test_blob_is_bound_to_its_record(aad: bytes) -> None:
    wrapper = LocalKeyWrapper(NEW)
    with pytest.raises(SecretError):
        wrapper.unwrap(wrapper.wrap(SECRET, AAD), aad)


@pytest.mark.parametrize(("value", "needle"), [
    ("", "is empty"),
    ("zz" * 32, "key 1 of 1 is not hexadecimal"),
    (NEW[:-2], "key 1 of 1 is 31 bytes"),
    (NEW + "00", "key 1 of 1 is 33 bytes"),
    (NEW[:32], "is 16 bytes"),
    (f"{NEW},", "key 2 of 2 is empty"),
    (f"{NEW},{OLD[:-1]}", "key 2 of 2 is not hexadecimal"),
], ids=["empty", "not-hex", "short", "long", "aes-128", "trailing-comma", "odd-length"])
def test_bad_master_key_names_the_variable_never_the_key(value: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        LocalKeyWrapper(value)
    message = str(info.value)
    assert "SENDGUARD_MASTER_KEY" in message and needle in message
    for key in (NEW, OLD, NEW[:32], OLD[:-1]):
        assert key not in message and key not in repr(info.value.__context__)
    assert info.value.__cause__ is None


def test_dev_key_is_made_once_with_owner_only_permissions(tmp_path: Path) -> None:
    var = tmp_path / "var"
    key = load_or_create_dev_key(var)
    path = var / "master.key"
    assert len(bytes.fromhex(key)) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_dev_key(var) == key
    assert [p.name for p in var.iterdir()] == ["master.key"]


def test_dev_key_permissions_are_tightened(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text(NEW + "\n")
    path.chmod(0o644)
    assert load_or_create_dev_key(tmp_path) == NEW
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_corrupt_dev_key_file_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "master.key").write_text("not a key")
    with pytest.raises(ConfigError, match=r"master\.key"):
        load_or_create_dev_key(tmp_path)


def test_config_development_without_key_uses_the_dev_key(tmp_path: Path) -> None:
    wrapper = wrapper_from_config(Config(var_dir=tmp_path))
    assert isinstance(wrapper, LocalKeyWrapper)
    key = (tmp_path / "master.key").read_text().strip()
    assert LocalKeyWrapper(key).unwrap(wrapper.wrap(SECRET, AAD), AAD) == SECRET


def test_config_production_never_falls_back_to_a_dev_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SENDGUARD_MASTER_KEY or SENDGUARD_KMS_KEY"):
        wrapper_from_config(Config(env="production", var_dir=tmp_path))
    assert not (tmp_path / "master.key").exists()


def test_config_master_key_is_used(tmp_path: Path) -> None:
    wrapper = wrapper_from_config(Config(master_key=f"{NEW},{OLD}", var_dir=tmp_path))
    assert LocalKeyWrapper(OLD).unwrap(LocalKeyWrapper(OLD).wrap(SECRET, AAD), AAD) == SECRET
    assert LocalKeyWrapper(NEW).unwrap(wrapper.wrap(SECRET, AAD), AAD) == SECRET
    assert not (tmp_path / "master.key").exists()


@pytest.mark.parametrize("name", ["", "my-key", "projects/p/locations/l/keyRings/r",
                                  "projects/p/locations/l/keyRings/r/cryptoKeys/k/extra"],
                         ids=["empty", "bare", "no-crypto-key", "version-suffix"])
def test_config_bad_kms_key_name(name: str) -> None:
    with pytest.raises(ConfigError, match="SENDGUARD_KMS_KEY"):
        KmsKeyWrapper(name)


# --- Cloud KMS over REST, against a loopback server speaking the same JSON ---------------

@pytest.fixture
def kms_state() -> Iterator[KmsStandIn]:
    with kms_stand_in() as state:
        yield state


@pytest.fixture
def kms(kms_state: KmsStandIn) -> KmsKeyWrapper:
    return kms_state.wrapper


def test_kms_round_trip_sends_aad(kms: KmsKeyWrapper, kms_state: KmsStandIn) -> None:
    blob = kms.wrap(SECRET, AAD)
    assert blob[0] == 2 and SECRET not in blob
    assert kms.unwrap(blob, AAD) == SECRET
    assert [s["path"].rsplit(":", 1)[1] for s in kms_state.seen] == ["encrypt", "decrypt"]
    assert all(base64.b64decode(s["additionalAuthenticatedData"]) == AAD
               for s in kms_state.seen)


@pytest.mark.parametrize("case", ["wrong-aad", "tampered", "local-blob", "empty"])
def test_kms_bad_blob_is_a_secret_error(kms: KmsKeyWrapper, case: str) -> None:
    blob = kms.wrap(SECRET, AAD)
    bad = {"wrong-aad": blob, "tampered": _flip(blob, 20),
           "local-blob": LocalKeyWrapper(NEW).wrap(SECRET, AAD), "empty": b""}[case]
    with pytest.raises(SecretError):
        kms.unwrap(bad, b"other" if case == "wrong-aad" else AAD)


@pytest.mark.parametrize(("status", "error", "needle"), [
    (403, ConfigError, "SENDGUARD_KMS_KEY"),
    (401, ConfigError, "HTTP 401"),
    (503, SendGuardError, "HTTP 503"),
], ids=["forbidden", "unauthenticated", "unavailable"])
def test_kms_service_failures(kms: KmsKeyWrapper, kms_state: KmsStandIn, status: int,
                              error: type[Exception], needle: str) -> None:
    kms_state.status = status
    with pytest.raises(error, match=needle):
        kms.wrap(SECRET, AAD)


def test_kms_unreachable() -> None:
    with requests.Session() as session:
        wrapper = KmsKeyWrapper(KMS_NAME, endpoint="http://127.0.0.1:9/v1/", session=session,
                                timeout=2)
        with pytest.raises(SendGuardError, match="unreachable"):
            wrapper.wrap(SECRET, AAD)


def test_switch_to_kms_keeps_old_records_open(kms: KmsKeyWrapper) -> None:
    local = LocalKeyWrapper(NEW)
    old_blob = local.wrap(SECRET, AAD)
    both = MigratingKeyWrapper(kms, {2: kms, 1: local})
    new_blob = both.wrap(SECRET, AAD)
    assert new_blob[0] == 2
    assert both.unwrap(old_blob, AAD) == both.unwrap(new_blob, AAD) == SECRET
    with pytest.raises(SecretError):
        both.unwrap(b"\x07" + old_blob[1:], AAD)


def test_config_with_kms_and_master_key_migrates(tmp_path: Path) -> None:
    wrapper = wrapper_from_config(Config(kms_key=KMS_NAME, master_key=NEW, var_dir=tmp_path))
    assert isinstance(wrapper, MigratingKeyWrapper)
    # Local blobs open without reaching KMS (no credentials are needed for them).
    assert wrapper.unwrap(LocalKeyWrapper(NEW).wrap(SECRET, AAD), AAD) == SECRET
    assert isinstance(wrapper_from_config(Config(kms_key=KMS_NAME)), KmsKeyWrapper)
