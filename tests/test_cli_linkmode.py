"""``sendguard protect --method link`` (SPEC 10.3, contract) through the real CLI entry
point: a 40 MB file round-trips (out of the message, sealed in var/files, opened again
byte for byte through the sealed manifest), the JSON shape, the policy's
``delivery.method`` as default, ``keys revoke`` erasing the stored files, the events in
``sendguard audit search``, and one-line errors for bad input."""

from __future__ import annotations

import functools
import json
import os
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

import pytest

from service.delivery.linkpackages import open_manifest
from service.files.crypt import decrypt_range, file_key
from service.files.store import LocalFileStore
from service.protect.keywrap import wrapper_from_config
from service.settings import Config
from service.storage import Store
from tests.files.conftest import gcs_endpoint
from tests.support.cli import Run, run
from tests.test_cli_protect_keys import PARTNER, env, message, smtp, smtp_server

__all__ = ["env", "gcs_endpoint", "run", "smtp", "smtp_server"]

BIG = "設計図面 第3版.bin"


def stored_files(env: Path) -> list[Path]:
    root = env / "var" / "files"
    return sorted(root.iterdir()) if root.exists() else []


def opened(package_id: str) -> dict[str, bytes]:
    config = Config.from_env()
    files = LocalFileStore(config.var_dir / "files")
    with Store.from_url(config.database_url) as store:
        manifest = open_manifest(wrapper_from_config(config), store.get_package(package_id))
    return {f.name: b"".join(decrypt_range(
        file_key(manifest.key, n), f.size,
        functools.partial(files.read, f.object_name)))
        for n, f in enumerate(manifest.files)}


def test_forty_megabytes_round_trip_and_recall(env: Path, run: Run) -> None:
    data = {BIG: os.urandom(40 * 1024 * 1024), "メモ.txt": "よろしく\n".encode()}
    (env / "big.eml").write_bytes(message(data))
    code, out, err = run("protect", "big.eml", "-o", "out.eml", "--method", "link",
                         "--key-to", PARTNER, "--json")
    assert code == 0, err
    result = json.loads(out)
    assert set(result) == {"package_id", "method", "files"}
    assert result["method"] == "link" and result["files"] == list(data)
    out_bytes = (env / "out.eml").read_bytes()
    assert len(out_bytes) < 10_000
    msg = message_from_bytes(out_bytes, policy=email_policy.default)
    assert not [p for p in msg.walk() if p.get_filename()]
    note = "".join(str(p.get_content()) for p in msg.walk()
                   if p.get_content_maintype() == "text")
    assert BIG in note and "ダウンロード" in note       # the message is Japanese
    assert len(stored_files(env)) == 2
    assert opened(result["package_id"]) == data

    code, _, err = run("keys", "revoke", result["package_id"])
    assert code == 0, err
    assert stored_files(env) == []
    code, out, err = run("audit", "search", "--package", result["package_id"], "--json")
    assert code == 0, err
    actions = [json.loads(line)["action"] for line in out.splitlines()]
    for action in ("files.uploaded", "package.revoked", "files.erased"):
        assert action in actions


METHODS = {"policy says link": ('[delivery]\nmethod = "link"\n', [], "link"),
           "policy says link, --method zip": ('[delivery]\nmethod = "link"\n',
                                              ["--method", "zip"], "zip"),
           "default policy": ("", [], "zip")}


@pytest.mark.parametrize(("policy", "extra", "method"), METHODS.values(), ids=METHODS.keys())
def test_method_default_from_policy(env: Path, run: Run, policy: str, extra: list[str],
                                    method: str) -> None:
    (env / "p.toml").write_text(policy)
    code, out, err = run("protect", "in.eml", "-o", "out.eml", "--policy", "p.toml",
                         "--key-to", PARTNER, "--json", *extra)
    assert code == 0, err
    result = json.loads(out)
    assert ("method" in result) == (method == "link")
    assert bool(stored_files(env)) == (method == "link")


BAD = {
    "no attachments": ([], lambda env: (env / "in.eml").write_bytes(message({})),
                       "no attachments"),
    "over max_link_size": (["--policy", "small.toml"], lambda env: (
        env / "small.toml").write_text('[attachments]\nmax_link_size = "1KB"\n'), "MB"),
    "unknown method": (["--method", "ftp"], lambda env: None, "ftp"),
}


@pytest.mark.parametrize(("extra", "prepare", "says"), BAD.values(), ids=BAD.keys())
def test_bad_input_is_one_line(env: Path, run: Run, extra: list[str], prepare: object,
                               says: str) -> None:
    prepare(env)  # type: ignore[operator]
    code, _, err = run("protect", "in.eml", "-o", "out.eml", "--key-to", PARTNER,
                         *(["--method", "link"] if "--method" not in extra else []), *extra)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and says in err
    assert stored_files(env) == []
    assert not (env / "out.eml").exists()


def test_cloud_storage_through_the_cli(env: Path, run: Run, gcs_endpoint: str,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """SENDGUARD_FILES=gs://BUCKET/PREFIX: the production path (google-cloud-storage's
    default client, here pointed at the emulator by STORAGE_EMULATOR_HOST)."""
    from tests.files.conftest import gcs_client

    client = gcs_client(gcs_endpoint)
    client.create_bucket("sg-cli-files")
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_endpoint)
    monkeypatch.setenv("SENDGUARD_FILES", "gs://sg-cli-files/sendguard")
    data = {BIG: os.urandom(9 * 1024 * 1024 + 7)}
    (env / "gcs.eml").write_bytes(message(data))
    code, out, err = run("protect", "gcs.eml", "-o", "out.eml", "--method", "link",
                         "--key-to", PARTNER, "--json")
    assert code == 0, err
    package_id = json.loads(out)["package_id"]
    [blob] = list(client.list_blobs("sg-cli-files"))
    assert blob.name.startswith("sendguard/") and package_id not in blob.name
    config = Config.from_env()
    with Store.from_url(config.database_url) as store:
        package = store.get_package(package_id)
        manifest = open_manifest(wrapper_from_config(config), package)
    from service.files.store import parse_files_url

    files = parse_files_url(config.files, config.var_dir)
    f = manifest.files[0]
    assert b"".join(decrypt_range(file_key(manifest.key, 0), f.size,
                                  lambda o, ln: files.read(f.object_name, o, ln))) == data[BIG]
    code, _, err = run("keys", "revoke", package_id)
    assert code == 0, err
    assert list(client.list_blobs("sg-cli-files")) == []
