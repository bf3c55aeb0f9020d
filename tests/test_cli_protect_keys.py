"""``sendguard protect`` (SPEC section 4, contract), ``sendguard keys`` and ``sendguard
worker --once``, run through the real CLI entry point on a throw-away ``var`` directory,
with notices going to a real SMTP server on loopback and ZIPs opened with 7-Zip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.support.cli import Run, run
from tests.support.parts import sevenzip_path

try:
    from tests.support.smtp import SmtpServer, smtp, smtp_server
except ModuleNotFoundError:  # the repository root is not on sys.path under plain `pytest`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.smtp import SmtpServer, smtp, smtp_server


__all__ = ["smtp", "smtp_server"]

PARTNER = "tanaka@partner.example.com"
BASE_URL = "https://keys.example.jp"
FILES = {"見積書 2026年度.xlsx": b"PK\x03\x04" + os.urandom(2000),
         "顧客一覧.csv": "名前,電話\n佐藤,03-1234-5678\n".encode() * 100}


def message(files: dict[str, bytes] | None = None, *, message_id: bool = True) -> bytes:
    msg = EmailMessage(policy=email_policy.SMTP)
    msg["From"] = "佐藤 花子 <sato@corp.example.jp>"
    msg["To"] = f"田中 <{PARTNER}>"
    msg["Cc"] = "suzuki@other.example.net"
    msg["Subject"] = "見積書の送付"
    if message_id:
        msg["Message-ID"] = "<cli-1@corp.example.jp>"
    msg.set_content("田中様\n\n見積書をお送りします。\n")
    for name, data in (FILES if files is None else files).items():
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: SmtpServer) -> Path:
    """A development environment of its own: var dir, SQLite, master key, SMTP mailer."""
    monkeypatch.chdir(tmp_path)
    for name in ("SENDGUARD_POLICY", "DATABASE_URL", "SENDGUARD_MASTER_KEY", "SENDGUARD_KMS_KEY",
                 "SENDGUARD_ENV", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("SENDGUARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SENDGUARD_BASE_URL", BASE_URL)
    monkeypatch.setenv("SENDGUARD_MAILER", smtp.url)
    (tmp_path / "in.eml").write_bytes(message())
    return tmp_path


__all__ = ["Run", "run"]


@pytest.fixture(scope="module")
def sevenzip() -> str:
    return sevenzip_path()


def unzip(exe: str, eml: Path, password: str, dest: Path) -> dict[str, bytes]:
    msg = message_from_bytes(eml.read_bytes(), policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    [part] = list(msg.iter_attachments())
    archive = dest / str(part.get_filename())
    archive.write_bytes(part.get_content())
    bad = subprocess.run([exe, "t", f"-p{password}x", str(archive)], capture_output=True,
                         check=False)
    assert bad.returncode != 0
    out = dest / "x"
    res = subprocess.run([exe, "x", f"-p{password}", f"-o{out}", "-y", str(archive)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    return {p.name: p.read_bytes() for p in out.iterdir()}


# ---------------------------------------------------------------------------- protect

@pytest.mark.parametrize("reveal", [False, True], ids=["json", "json-reveal-password"])
def test_protect_json_shape(env: Path, run: Run, sevenzip: str, reveal: bool) -> None:
    before = (env / "in.eml").read_bytes()
    stat = (env / "in.eml").stat()
    argv = ["protect", "in.eml", "-o", "out.eml", "--json"]
    code, out, err = run(*argv, *(["--reveal-password"] if reveal else ["--key-to", PARTNER]))
    assert code == 0, err
    data = json.loads(out)
    expected = {"package_id", "zip_filename", "files"} | ({"password"} if reveal else set())
    assert set(data) == expected
    assert data["files"] == list(FILES) and data["zip_filename"].endswith(".zip")
    assert (env / "in.eml").read_bytes() == before
    assert (env / "in.eml").stat().st_mtime_ns == stat.st_mtime_ns
    assert not list(env.glob(".out.eml.*"))                 # no temporary file left
    code, shown, _ = run("keys", "show", data["package_id"], "--json")
    record = json.loads(shown)
    assert record["files"] == list(FILES)
    assert record["state"] == ("awaiting_release" if reveal else "held")
    assert "wrapped_password" not in shown and "password" not in record
    if reveal:
        assert unzip(sevenzip, env / "out.eml", data["password"], env) == FILES
        assert data["password"] not in shown


def test_protect_human_output(env: Path, run: Run) -> None:
    code, out, err = run("protect", "in.eml", "-o", "out.eml", "--reveal-password")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith("Wrote out.eml: 2 attachments in attachments-")
    assert lines[1].startswith("Password: ")
    code, out, _ = run("protect", "in.eml", "-o", "out2.eml", "--key-to", PARTNER)
    assert "Password" not in out


def test_protect_output_in_japanese(env: Path, run: Run,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    code, out, _ = run("protect", "in.eml", "-o", "out.eml", "--key-to", PARTNER)
    assert code == 0 and "を書き出しました" in out
    code, _, err = run("protect", "nothing.eml", "-o", "out.eml")
    assert code == 2 and "エラー" in err


def _write(name: str, data: bytes) -> Callable[[Path], list[str]]:
    def make(root: Path) -> list[str]:
        (root / name).write_bytes(data)
        return ["protect", name, "-o", "out.eml"]
    return make


BAD_INPUTS = [
    pytest.param(lambda root: ["protect", "missing.eml", "-o", "out.eml"], "no such file",
                 id="missing"),
    pytest.param(lambda root: (root / "dir.eml").mkdir() or
                 ["protect", "dir.eml", "-o", "out.eml"], "directory", id="directory"),
    pytest.param(_write("plain.eml", message({})), "no attachments", id="no-attachments"),
    pytest.param(_write("empty.eml", b""), "not an e-mail", id="empty"),
    pytest.param(_write("garbage.eml", os.urandom(4096)), "not an e-mail", id="binary-garbage"),
    pytest.param(_write("text.eml", b"hello world\n"), "not an e-mail", id="plain-text"),
    pytest.param(_write("exe.eml", message({"setup.exe": b"MZ" + bytes(64)})), "blocked",
                 id="blocked-type"),
    pytest.param(lambda root: ["protect", "in.eml", "-o", "in.eml"], "must not be the input",
                 id="out-is-in"),
    pytest.param(lambda root: ["protect", "in.eml", "-o", "./sub/../in.eml"],
                 "must not be the input", id="out-is-in-other-path"),
    pytest.param(lambda root: ["protect", "in.eml", "-o", "out.eml", "--key-to",
                               "evil@attacker.example"], "not a recipient", id="not-recipient"),
    pytest.param(lambda root: (root / "p.toml").write_text("[delivery]\nrelease_mode = 3\n")
                 and ["protect", "in.eml", "-o", "out.eml", "--policy", "p.toml"],
                 "release_mode", id="bad-policy"),
    pytest.param(lambda root: ["protect", "in.eml", "-o", "no/such/dir/out.eml"],
                 "cannot write", id="unwritable-output"),
]


@pytest.mark.parametrize("setup,words", BAD_INPUTS)
def test_protect_bad_input_is_exit_2_with_one_line(env: Path, run: Run,
                                                   setup: Callable[[Path], list[str]],
                                                   words: str) -> None:
    (env / "sub").mkdir(exist_ok=True)
    argv = setup(env)
    if "--key-to" not in argv:          # each case is about its own input, not the key
        argv.append("--reveal-password")
    before = {p.name: p.read_bytes() for p in env.glob("*.eml") if p.is_file()}
    code, out, err = run(*argv)
    assert code == 2
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("sendguard: error: ")
    assert words in err
    assert {p.name: p.read_bytes() for p in env.glob("*.eml") if p.is_file()} == before
    assert not (env / "out.eml").exists()


def test_protect_over_35_mb_is_refused(env: Path, run: Run) -> None:
    (env / "big.eml").write_bytes(message({"video.bin": os.urandom(27 * 1024 * 1024)}))
    code, out, err = run("protect", "big.eml", "-o", "out.eml", "--key-to", PARTNER)
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and "MB" in err
    assert "nothing was encrypted" in err
    assert not (env / "out.eml").exists()
    assert run("keys", "list", "--json")[1].count("package_id") == 0   # refused up front


@pytest.mark.parametrize("lang,words", [("en_US.UTF-8", "nobody would receive the password"),
                                        ("ja_JP.UTF-8", "パスワードを受け取る人がいません")],
                         ids=["en", "ja"])
def test_protect_without_anyone_to_get_the_key_is_refused(
        env: Path, run: Run, monkeypatch: pytest.MonkeyPatch, lang: str, words: str) -> None:
    """A ZIP nobody can open: exit 2 (SPEC 10.4), before anything is encrypted."""
    monkeypatch.setenv("LANG", lang)
    code, out, err = run("protect", "in.eml", "-o", "out.eml")
    assert code == 2 and out == "" and len(err.splitlines()) == 1 and words in err
    assert not (env / "out.eml").exists()
    assert run("keys", "list", "--json")[1].count("package_id") == 0


def test_protect_sender_only_needs_no_key_recipient(env: Path, run: Run) -> None:
    (env / "p.toml").write_text('[delivery]\nrelease_mode = "sender_only"\n')
    code, out, err = run("protect", "in.eml", "-o", "out.eml", "--policy", "p.toml", "--json")
    assert code == 0, err
    shown = json.loads(run("keys", "show", json.loads(out)["package_id"], "--json")[1])
    assert [k["address"] for k in shown["key_recipients"]] == ["sato@corp.example.jp"]


def test_protect_as_a_process(env: Path) -> None:
    """The console entry point itself: exit status and streams as a script sees them."""
    exe = Path(sys.executable).with_name("sendguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "service"]
    ok = subprocess.run([*cmd, "protect", "in.eml", "-o", "out.eml", "--json", "--key-to",
                         PARTNER],
                        capture_output=True, text=True, cwd=env, check=False, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert set(json.loads(ok.stdout)) == {"package_id", "zip_filename", "files"}
    bad = subprocess.run([*cmd, "protect", "in.eml", "-o", "in.eml"], capture_output=True,
                         text=True, cwd=env, check=False, timeout=60)
    assert bad.returncode == 2 and bad.stdout == "" and len(bad.stderr.splitlines()) == 1


_COLLECTIONS = """
import gc, sys
from service.commands.main import main
seen = []
gc.callbacks.append(lambda phase, info: seen.append(sys.argv[1]) if phase == "start" else None)
code = main()       # as the console script: the command line from sys.argv
print(code, len(seen), gc.isenabled())
"""


@pytest.mark.parametrize(("argv", "collects"), [
    (["protect", "in.eml", "-o", "out.eml", "--json", "--key-to", PARTNER], False),
    (["keys", "list", "--json"], True),          # any other command: as Python does
], ids=["protect", "keys-list"])
def test_protect_runs_without_the_cyclic_collector(env: Path, argv: list[str],
                                                   collects: bool) -> None:
    """A protect process collects no garbage cycles (start-up, issue 12), nor switches
    the collector back on just before it ends; other commands collect as usual."""
    r = subprocess.run([sys.executable, "-c", _COLLECTIONS, *argv], capture_output=True,
                       text=True, cwd=env, check=False, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    code, collections, enabled = r.stdout.split()[-3:]
    assert code == "0"
    assert (int(collections) > 0) is collects, collections
    assert (enabled == "True") is collects


def test_protect_in_process_leaves_the_collector_as_it_was(env: Path, run: Run) -> None:
    import gc

    assert gc.isenabled()
    assert run("protect", "in.eml", "-o", "out.eml", "--json", "--key-to", PARTNER)[0] == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert run("protect", "in.eml", "-o", "out2.eml", "--json", "--key-to", PARTNER)[0] == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


# ---------------------------------------------------------------------------- keys

def _protect(run: Run, *extra: str) -> str:
    code, out, err = run("protect", "in.eml", "-o", "out.eml", "--json", *extra)
    assert code == 0, err
    return str(json.loads(out)["package_id"])


def test_keys_list_show_release_revoke(env: Path, run: Run, smtp: SmtpServer) -> None:
    held = _protect(run, "--key-to", PARTNER)
    waiting = _protect(run, "--reveal-password")
    code, out, _ = run("keys", "list", "--json")
    listed = json.loads(out)["packages"]
    assert [p["package_id"] for p in listed] == [waiting, held]            # newest first
    assert {p["state"] for p in listed} == {"held", "awaiting_release"}
    code, out, _ = run("keys", "list", "--sender", "sato@corp.example.jp", "--limit", "1")
    assert code == 0 and waiting in out and held not in out
    code, out, _ = run("keys", "list", "--sender", "nobody@corp.example.jp")
    assert out.strip() == "No packages."

    code, out, _ = run("keys", "show", held)
    assert code == 0 and "state:        held (release: delay)" in out and PARTNER in out
    code, out, err = run("keys", "release", held)
    assert code == 0, err
    assert out.strip() == f"Package {held} is released: 1 notice sent."
    [notice] = smtp.wait_for(1)
    assert notice.rcpt_tos == (PARTNER,) and f"{BASE_URL}/k/" in notice.text()
    code, out, _ = run("keys", "show", held, "--json")
    record = json.loads(out)
    assert record["state"] == "released"
    assert record["key_recipients"][0]["notice_sent_at"] is not None

    code, out, _ = run("keys", "revoke", held)
    assert code == 0 and "revoked" in out
    for argv in (["keys", "revoke", held], ["keys", "release", held],
                 ["keys", "show", "no-such-package"], ["keys", "revoke", "no-such-package"],
                 ["keys", "list", "--limit", "0"]):
        code, out, err = run(*argv)
        assert code == 2 and out == "" and len(err.splitlines()) == 1, argv
    events = [e for e in json.loads(run("keys", "show", held, "--json")[1])
              ["key_recipients"]]
    assert events[0]["revealed"] == 0


def test_worker_once_releases_due_keys(env: Path, run: Run, smtp: SmtpServer) -> None:
    (env / "now.toml").write_text('[delivery]\nrelease_delay = "0s"\n')
    package_id = _protect(run, "--key-to", PARTNER, "--policy", "now.toml")
    code, out, err = run("worker", "--once")
    assert code == 0, err
    assert out.strip() == "released 1, notices sent 1, failed 0, expired 0"
    assert smtp.wait_for(1)[0].rcpt_tos == (PARTNER,)
    code, out, _ = run("worker", "--once")
    assert out.strip() == "released 0, notices sent 0, failed 0, expired 0"
    assert json.loads(run("keys", "show", package_id, "--json")[1])["state"] == "released"


def test_protect_without_message_id_waits_for_explicit_release(env: Path, run: Run,
                                                              smtp: SmtpServer) -> None:
    (env / "noid.eml").write_bytes(message(message_id=False))
    (env / "now.toml").write_text('[delivery]\nrelease_delay = "0s"\n')
    code, out, err = run("protect", "noid.eml", "-o", "out.eml", "--json", "--key-to", PARTNER,
                         "--policy", "now.toml")
    assert code == 0 and "keys release" in err
    package_id = json.loads(out)["package_id"]
    code, out, _ = run("worker", "--once")      # due, but not known to be sent: no notice
    assert out.strip() == "released 1, notices sent 0, failed 0, expired 0"
    assert smtp.messages == []
    code, out, _ = run("keys", "release", package_id)
    assert code == 0 and "1 notice sent" in out
    assert smtp.wait_for(1)[0].rcpt_tos == (PARTNER,)


def test_worker_loop_stops_on_sigterm(env: Path) -> None:
    """``sendguard worker`` runs rounds until Cloud Run (or Ctrl-C) stops it, then exits 0."""
    import signal
    import time

    exe = Path(sys.executable).with_name("sendguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "service"]
    with subprocess.Popen([*cmd, "worker", "--interval", "0.2"], cwd=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        try:
            assert proc.stderr is not None and proc.stdout is not None
            assert proc.stderr.readline().startswith("worker: releasing due keys every 0.2 s")
            time.sleep(0.5)                              # a few rounds
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
            assert proc.stdout.read() == ""              # idle rounds print nothing
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.mark.parametrize("files,words", [
    ({"a.txt": b"x" * 100}, "1 attachment in"),
    ({"a.txt": b"x" * 100, "b.txt": b"y" * 100}, "2 attachments in"),
], ids=["one", "two"])
def test_protect_counts_read_naturally(env: Path, run: Run, files: dict[str, bytes],
                                       words: str) -> None:
    (env / "n.eml").write_bytes(message(files))
    code, out, err = run("protect", "n.eml", "-o", "out.eml", "--key-to", PARTNER)
    assert code == 0, err
    assert words in out and "(s)" not in out
