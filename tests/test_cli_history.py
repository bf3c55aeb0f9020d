"""``sendguard history import|forget`` and ``check --user`` (SPEC 10.2, contract) on a
generated mbox of Japanese business mail in ISO-2022-JP, Shift_JIS and UTF-8, as Google
Takeout exports it (mboxo ``From `` separators). The commands run in process
(``tests/support/cli.py``); tests/test_cli_failures.py starts the real process."""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.cli import Cli, Result, cli

__all__ = ["cli"]

ME = "suzuki@a-sys.co.jp"
PEOPLE = [("情報 二郎", "joho-jiro@b-corp.co.jp"), ("株式会社B 山田 太郎", "yamada@b-corp.co.jp"),
          ("佐藤 花子", "h.sato@c-shoji.co.jp"), ("木村 課長", "kimura@d-kogyo.co.jp")]


def _word(text: str, charset: str) -> str:
    data = text.encode(charset)
    return f"=?{charset.upper()}?B?{base64.b64encode(data).decode()}?="


def business_mail(i: int, sender: str = ME) -> bytes:
    name, addr = PEOPLE[i % len(PEOPLE)]
    charset = ("iso-2022-jp", "shift_jis", "utf-8")[i % 3]
    body = (f"{name}様\n\nいつもお世話になっております。\nA社システム部の鈴木です。\n\n"
            f"先日の打合せ資料（第{i}版）をお送りします。\nご確認のほどよろしくお願いいたします。\n")
    if charset == "utf-8":
        to = f"{name} <{addr}>".encode()                         # raw 8-bit, as some send
        part = (b"Content-Type: text/plain; charset=utf-8\n"
                b"Content-Transfer-Encoding: base64\n\n"
                + base64.encodebytes(body.encode()))
    else:
        to = f"{_word(name, charset)} <{addr}>".encode()
        cte = "7bit" if charset == "iso-2022-jp" else "8bit"
        part = (f"Content-Type: text/plain; charset={charset}\n"
                f"Content-Transfer-Encoding: {cte}\n\n").encode() + body.encode(charset)
    cc = b"Cc: =?ISO-2022-JP?B?GyRCOzNFRBsoQg==?= <yamada@b-corp.co.jp>\n" if i % 5 == 0 else b""
    head = (f"From {sender} Mon Nov  2 10:{i % 60:02d}:00 2026\n"
            f"From: =?UTF-8?B?6Yi05pyoIOS4gOmDjg==?= <{sender}>\n").encode() + b"To: " + to \
        + b"\n" + cc + (f"Subject: {_word('資料送付の件', 'iso-2022-jp')}\n"
                        f"Date: Mon, 02 Nov 2026 10:{i % 60:02d}:00 +0900\n"
                        f"Message-ID: <sent{i}@a-sys.co.jp>\nMIME-Version: 1.0\n").encode()
    return head + part + b"\n"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    mails = [business_mail(i) for i in range(40)]
    mails += [business_mail(100 + i, sender="partner@b-corp.co.jp") for i in range(5)]
    (tmp_path / "sent.mbox").write_bytes(b"".join(mails))
    (tmp_path / "not.mbox").write_bytes(b"Subject: hello\n\nbody\n")
    return tmp_path


SendGuard = Callable[..., Result]


@pytest.fixture
def sendguard(cli: Cli) -> SendGuard:
    """``sendguard(cwd, *args, lang=...)``: the command in ``cwd`` under ``LANG``."""
    def go(cwd: Path, *args: str, lang: str = "en_US.UTF-8") -> Result:
        return cli(*args, cwd=cwd, lang=lang)
    return go


def eml(cwd: Path, to: str, body: str = "よろしくお願いいたします。") -> str:
    path = cwd / "draft.eml"
    path.write_bytes(f"From: {ME}\nTo: {to}\nSubject: x\nContent-Type: text/plain; "
                     f"charset=utf-8\n\n{body}\n".encode())
    return str(path)


def test_import_check_forget(sendguard: SendGuard, work: Path) -> None:
    r = sendguard(work, "history", "import", "sent.mbox", "--user", ME, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"imported": 40, "skipped": 5}
    assert "45" in r.stderr                                   # progress on stderr
    again = sendguard(work, "history", "import", "sent.mbox", "--user", ME, "--json")
    assert json.loads(again.stdout) == {"imported": 0, "skipped": 45}

    dump = subprocess.run(["sqlite3", str(work / "var" / "sendguard.db"), ".dump"],
                          capture_output=True, text=True, check=True).stdout
    assert "history_recipients" in dump
    for name, addr in PEOPLE:
        for secret in (addr, addr.split("@")[0], name.split()[-1], "b-corp", "c-shoji"):
            assert secret not in dump, secret

    draft = eml(work, "情報 二郎 <joho-hanako@b-corp.co.jp>, h.sato@c-shojl.co.jp")
    r = sendguard(work, "check", draft, "--user", ME, "--json")
    assert r.returncode == 0, r.stderr
    found = {f["code"]: f for f in json.loads(r.stdout)["findings"]}
    assert found["name_address_mismatch"]["addresses"] == ["joho-hanako@b-corp.co.jp"]
    assert "joho-jiro@b-corp.co.jp" in found["name_address_mismatch"]["message"]
    assert found["similar_recipient"]["addresses"] == ["h.sato@c-shojl.co.jp"]
    assert found["first_time_recipient"]["severity"] == "info"
    # without --user: the message's From, since history exists for it
    r = sendguard(work, "check", draft, "--json")
    assert "name_address_mismatch" in r.stdout
    known = sendguard(work, "check", eml(work, "情報 二郎 <joho-jiro@b-corp.co.jp>"), "--json")
    assert json.loads(known.stdout)["findings"][0]["code"] == "external_recipients"

    r = sendguard(work, "history", "forget", "--user", ME, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["deleted"] > 40
    r = sendguard(work, "check", draft, "--user", ME, "--json")
    assert "name_address_mismatch" not in r.stdout and "first_time_recipient" not in r.stdout
    rows = subprocess.run(["sqlite3", str(work / "var" / "sendguard.db"),
                           "SELECT count(*) FROM history_recipients"],
                          capture_output=True, text=True, check=True).stdout
    assert rows.strip() == "0"


def test_people_shown_together_before_are_not_a_new_exposure(sendguard: SendGuard,
                                                             work: Path) -> None:
    """SPEC 10.6 through the command line: the imported Sent mail showed h.sato (C商事) and
    yamada (株式会社B) to each other (mail 10: To h.sato, Cc yamada), never kimura (D工業)
    with h.sato. Forgetting the history brings the warning back."""
    assert sendguard(work, "history", "import", "sent.mbox", "--user", ME).returncode == 0

    def exposure(to: str) -> bool:
        r = sendguard(work, "check", eml(work, to), "--json")
        assert r.returncode == 0, r.stderr
        return "cross_domain_exposure" in {f["code"] for f in json.loads(r.stdout)["findings"]}

    assert not exposure("h.sato@c-shoji.co.jp, yamada@b-corp.co.jp")
    assert exposure("h.sato@c-shoji.co.jp, kimura@d-kogyo.co.jp")
    assert sendguard(work, "history", "forget", "--user", ME).returncode == 0
    assert exposure("h.sato@c-shoji.co.jp, yamada@b-corp.co.jp")


@pytest.mark.parametrize(("args", "says"), [
    (("history", "import", "missing.mbox", "--user", ME), "missing.mbox: no such file"),
    (("history", "import", "not.mbox", "--user", ME), "not an mbox"),
    (("history", "import", ".", "--user", ME), "is a directory"),
    (("history", "import", "sent.mbox", "--user", "not an address"), "--user"),
    (("history", "import", "sent.mbox"), "--user"),
    (("history", "forget", "--user", "Suzuki <suzuki@a-sys.co.jp>"), "--user"),
    (("check", "sent.mbox", "--user", "nobody"), "--user"),
])
def test_bad_input_is_one_line_exit_2(sendguard: SendGuard, work: Path, args: tuple[str, ...],
                                     says: str) -> None:
    r = sendguard(work, *args)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and says in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(("path", "says"), [
    ("missing.mbox", "missing.mbox: ファイルがありません"),
    (".", ".: ディレクトリです"),
], ids=["missing", "directory"])
def test_file_errors_follow_lang(sendguard: SendGuard, work: Path, path: str,
                                 says: str) -> None:
    r = sendguard(work, "history", "import", path, "--user", ME, lang="ja_JP.UTF-8")
    assert r.returncode == 2 and r.stderr.strip() == f"sendguard: エラー: {says}", r.stderr


@pytest.mark.parametrize("lang, evidence", [
    ("en_US.UTF-8", "Your mail to that company has gone to b-corp.co.jp"),
    ("ja_JP.UTF-8", "この会社宛のメールはこれまで b-corp.co.jp に送っています"),
])
def test_companies_learnt_from_the_mbox_catch_a_letter_to_the_wrong_company(
        sendguard: SendGuard, work: Path, lang: str, evidence: str) -> None:
    """The JIPDEC case: 株式会社B's letter addressed to C社. The import learnt from display
    names and greetings that 株式会社B's mail goes to b-corp.co.jp."""
    r = sendguard(work, "history", "import", "sent.mbox", "--user", ME, "--json")
    assert r.returncode == 0, r.stderr
    wrong = eml(work, "h.sato@c-shoji.co.jp",
                body="株式会社B 御中\n\nいつもお世話になっております。\n資料をお送りします。")
    r = sendguard(work, "check", wrong, "--user", ME, "--json", lang=lang)
    found = {f["code"]: f for f in json.loads(r.stdout)["findings"]}
    assert evidence in found["salutation_mismatch"]["message"]
    right = eml(work, "yamada@b-corp.co.jp",
                body="株式会社B 御中\n\nいつもお世話になっております。\n資料をお送りします。")
    r = sendguard(work, "check", right, "--user", ME, "--json", lang=lang)
    assert "salutation_mismatch" not in r.stdout
    dump = subprocess.run(["sqlite3", str(work / "var" / "sendguard.db"), ".dump"],
                          capture_output=True, text=True, check=True).stdout
    assert "history_orgs" in dump and "株式会社" not in dump and "b-corp" not in dump
