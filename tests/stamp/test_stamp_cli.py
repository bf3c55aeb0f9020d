"""``sendguard stamp verify`` and ``sendguard audit bypasses`` (SPEC 10.5, contract), run
through the real entry point on a real SQLite audit."""

from __future__ import annotations

import csv
import io
import json
import mailbox
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.gmail.headers import addresses, header_values, raw_headers
from service.stamp.header import Minted
from service.stamp.verify import audit_data
from service.storage import Store
from tests.support.cli import Run, run

from .helpers import KEY_A, KEY_B, SENDER, message, minted

__all__ = ["run"]
POLICY = '[organization]\ninternal_domains = ["corp.example.jp"]\n'


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.chdir(tmp_path)
    for name in ("SENDGUARD_ENV", "SENDGUARD_MASTER_KEY", "SENDGUARD_KMS_KEY"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{tmp_path}/audit.db"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SENDGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SENDGUARD_STAMP_KEY", KEY_A)
    (tmp_path / "policy.toml").write_text(POLICY)
    monkeypatch.setenv("SENDGUARD_POLICY", str(tmp_path / "policy.toml"))
    store = Store.from_url(url)
    store.upgrade()
    yield store
    store.close()


def audited(store: Store, m: Minted) -> Minted:
    bcc = addresses(header_values(raw_headers(m.raw), "Bcc"))
    store.append_audit(m.envelope.sender, "stamp.minted",
                       now=datetime.fromtimestamp(m.stamp.time, UTC),
                       data=audit_data(m.stamp, m.envelope, bcc))
    return m


def write_mbox(path: Path, messages: list[bytes]) -> Path:
    box = mailbox.mbox(path)
    for raw in messages:
        box.add(raw)
    box.close()
    return path


def test_verify_one_valid_eml(env: Store, tmp_path: Path, run: Run) -> None:
    m = audited(env, minted())
    (tmp_path / "ok.eml").write_bytes(m.raw)
    code, out, err = run("stamp", "verify", str(tmp_path / "ok.eml"), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["counts"]["valid"] == 1
    assert data["messages"][0]["nonce"] == m.stamp.nonce


def test_verify_mbox_classifies_each_message(env: Store, tmp_path: Path, run: Run) -> None:
    good = audited(env, minted(n=1))
    other = audited(env, minted(message(message_id="<m2@corp.example.jp>"), n=2))
    unknown_key = minted(n=3, key=KEY_B)
    never_minted = minted(n=4)
    path = write_mbox(tmp_path / "export.mbox", [
        good.raw,
        other.raw.replace("見積書".encode(), "請求書".encode()),             # altered
        good.raw.replace(b"<m1@corp.example.jp>", b"<again@corp.example.jp>"),  # replayed
        unknown_key.raw,                                                    # forged
        never_minted.raw,                                                   # forged
        message(message_id="<plain@corp.example.jp>"),                      # absent
        b"X-SendGuard-Checked: v1; k=2026a\n" + message(),                  # malformed
    ])
    code, out, _ = run("stamp", "verify", str(path), "--json")
    assert code == 1
    statuses = [m["status"] for m in json.loads(out)["messages"]]
    assert statuses == ["valid", "altered", "replayed", "forged", "forged", "absent", "forged"]
    code, out, err = run("stamp", "verify", str(path))
    assert code == 1 and "valid: 1" in err and "forged: 3" in err
    assert "malformed stamp: missing t=, n=, h=" in out


UNREADABLE = {
    "missing": (None, "no such file"),
    "empty": (b"", "empty file"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "not an e-mail message"),
}


@pytest.mark.parametrize("name", list(UNREADABLE))
def test_unreadable_input_exits_2_with_one_line(env: Store, tmp_path: Path, run: Run,
                                                name: str) -> None:
    content, needle = UNREADABLE[name]
    path = tmp_path / f"{name}.eml"
    if content is not None:
        path.write_bytes(content)
    code, out, err = run("stamp", "verify", str(path))
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_directory_is_unreadable(env: Store, tmp_path: Path, run: Run) -> None:
    code, _, err = run("stamp", "verify", str(tmp_path))
    assert code == 2 and "is a directory" in err


def test_verify_without_a_key_says_so(env: Store, tmp_path: Path, run: Run,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SENDGUARD_STAMP_KEY")
    (tmp_path / "m.eml").write_bytes(minted().raw)
    code, _, err = run("stamp", "verify", str(tmp_path / "m.eml"))
    assert code == 2 and "SENDGUARD_STAMP_KEY" in err


def test_verify_with_an_unreachable_database_exits_2(env: Store, tmp_path: Path, run: Run,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:secretpw@127.0.0.1:1/x")
    (tmp_path / "m.eml").write_bytes(minted().raw)
    code, _, err = run("stamp", "verify", str(tmp_path / "m.eml"))
    assert code == 2 and "database" in err and "secretpw" not in err
    assert len(err.strip().splitlines()) == 1


def _bypass_mbox(env: Store, tmp_path: Path) -> Path:
    ok = audited(env, minted(n=1))
    yamada = "山田 <yamada@corp.example.jp>"
    return write_mbox(tmp_path / "audit.mbox", [
        ok.raw,
        message(message_id="<b1@corp.example.jp>"),                         # sato absent
        message(message_id="<b2@corp.example.jp>", sender=yamada),          # yamada absent
        message(message_id="<b3@corp.example.jp>", sender=yamada),          # yamada absent
        minted(message(sender=yamada), n=9).raw,                             # yamada forged
        message(message_id="<in@x>", sender="partner@partner.example.com"),  # inbound
        message(message_id="<old@corp.example.jp>").replace(
            b"Thu, 03 Dec 2026", b"Mon, 02 Nov 2026"),                       # before --since
    ])


def test_bypasses_groups_by_sender(env: Store, tmp_path: Path, run: Run) -> None:
    path = _bypass_mbox(env, tmp_path)
    code, out, err = run("audit", "bypasses", str(path), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["senders"] == [
        {"sender": "yamada@corp.example.jp", "total": 3, "absent": 2, "forged": 1,
         "altered": 0, "replayed": 0},
        {"sender": SENDER, "total": 2, "absent": 2, "forged": 0, "altered": 0, "replayed": 0},
    ]
    assert data["not_outbound"] == 1 and data["outbound_checked"] == 6
    code, out, _ = run("audit", "bypasses", str(path), "--since", "2026-12-01", "--csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["sender", "total", "absent", "forged", "altered", "replayed"]
    assert rows[1:] == [["yamada@corp.example.jp", "3", "2", "1", "0", "0"],
                        [SENDER, "1", "1", "0", "0", "0"]]
    code, out, err = run("audit", "bypasses", str(path))
    assert code == 0 and "yamada@corp.example.jp" in out and "5 of 6 outbound" in err


def test_bypasses_bad_since_is_a_usage_error(env: Store, tmp_path: Path, run: Run) -> None:
    code, out, err = run("audit", "bypasses", str(tmp_path / "x.mbox"), "--since", "yesterday")
    assert code == 2 and out == "" and "yesterday" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


