"""Encrypt & send with ``delivery.hide_names``: the add-on's path gets the policy's choice
and the sent ZIP lists only the inner archive to anyone without the password."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from service.delivery.material import open_package
from service.devtools.gmail_emulator.memory import InMemoryGmailClient
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.protect.mime import INNER_ARCHIVE

from .conftest import SendDraft
from .helpers import FILES, PARTNER, open_zip, sevenzip, zip_of


def test_encrypt_and_send_hides_names_when_the_policy_says_so(
        send_draft: SendDraft, gmail: InMemoryGmailClient, keywrapper: LocalKeyWrapper,
        policy: Policy, tmp_path: Path) -> None:
    package = send_draft((PARTNER,), pol=dataclasses.replace(policy, hide_names=True))
    assert sorted(package.file_names) == sorted(FILES)       # the record keeps the names
    [sent] = gmail.sent()
    _, data = zip_of(sent.raw)
    for name in FILES:
        assert name.encode() not in data and name.encode("utf-8") not in sent.raw
    seven = sevenzip()
    password = open_package(keywrapper, package).password
    outer = open_zip(seven, data, password, tmp_path)
    assert list(outer) == [INNER_ARCHIVE]
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner.zip").write_bytes(outer[INNER_ARCHIVE])
    assert seven.extract(tmp_path / "inner.zip", "", tmp_path / "inner") == FILES
