"""Every command's ordinary failures, met as an admin meets them: the real ``sendguard``
process, exit 2 and one line on stderr naming what and where, in the user's language,
never a traceback (SPEC 10.4, issue 10). Also ``--version``, ``serve``/``dev`` on a broken
policy, ``/healthz`` without its policy, and what ``check`` imports (issue 12)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service import __version__
from tests.support.cli import Result

ROOT = Path(__file__).resolve().parents[1]
MESSAGE = (b"From: Sato <sato@corp.example.jp>\nTo: tanaka@partner.example.com\n"
           b"Subject: hello\n\nThank you.\n")


def _dead_port() -> int:
    with socket.socket() as s:          # bound, never listening: connections are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sendguard(cwd: Path, *args: str, lang: str = "en_US.UTF-8", timeout: float = 60,
              **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("LC_", "SENDGUARD_", "DATABASE_URL"))}
    base.update(LANG=lang, **env)
    exe = Path(sys.executable).with_name("sendguard")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "service"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, env=base,
                          timeout=timeout, check=False, cwd=cwd)


def one_line(r: subprocess.CompletedProcess[str] | Result, *words: str) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    (tmp_path / "broken.toml").write_text("[organization]\ninternal_domains = 3\n")
    return tmp_path


def test_version(work: Path) -> None:
    r = sendguard(work, "--version")
    assert r.returncode == 0 and r.stdout == f"sendguard {__version__}\n" and r.stderr == ""


# ------------------------------------------------------------------ unreachable database

DB_COMMANDS = {
    "keys list": ["keys", "list"],
    "keys show": ["keys", "show", "pkg_x"],
    "keys revoke": ["keys", "revoke", "pkg_x"],
    "audit search": ["audit", "search"],
    "db upgrade": ["db", "upgrade"],
    "worker --once": ["worker", "--once"],
    "protect": ["protect", "m.eml", "-o", "out.eml", "--reveal-password"],
}


@pytest.mark.parametrize("argv", list(DB_COMMANDS.values()), ids=list(DB_COMMANDS))
@pytest.mark.parametrize("lang,words", [("en_US.UTF-8", "cannot be reached"),
                                        ("ja_JP.UTF-8", "接続できません")], ids=["en", "ja"])
def test_unreachable_postgresql(work: Path, argv: list[str], lang: str, words: str) -> None:
    url = f"postgresql://sendguard:s3cret@127.0.0.1:{_dead_port()}/sendguard?connect_timeout=3"
    if argv[0] == "protect":   # a message with an attachment, so protect reaches the store
        from tests.test_cli_protect_keys import message
        (work / "m.eml").write_bytes(message())
    line = one_line(sendguard(work, *argv, lang=lang, DATABASE_URL=url),
                    words, "127.0.0.1")
    assert "s3cret" not in line and "***" in line           # the password never printed


def test_sqlite_that_cannot_be_opened(work: Path) -> None:
    (work / "adir.db").mkdir()
    one_line(sendguard(work, "keys", "list", DATABASE_URL="sqlite:///adir.db"),
             "sqlite:///adir.db", "cannot be reached")


# ------------------------------------------------------------------ policy, files, usage

POLICY_COMMANDS = {
    "check": ["check", "m.eml", "--policy", "broken.toml"],
    "check (env)": ["check", "m.eml"],
    "protect": ["protect", "m.eml", "-o", "out.eml", "--policy", "broken.toml",
                "--reveal-password"],
    "serve": ["serve", "--port", "0"],
    "dev": ["dev", "--port", "0"],
}


@pytest.mark.parametrize("argv", list(POLICY_COMMANDS.values()), ids=list(POLICY_COMMANDS))
def test_broken_policy_names_file_and_line(work: Path, argv: list[str]) -> None:
    env: dict[str, Any] = {} if "--policy" in argv else {"SENDGUARD_POLICY": "broken.toml"}
    one_line(sendguard(work, *argv, **env), "broken.toml:2", "internal_domains")


@pytest.mark.parametrize("argv,words", [
    (["check", "missing.eml"], ["missing.eml", "no such file"]),
    (["check", "m.eml", "--policy", "nope.toml"], ["nope.toml", "not found"]),
    (["protect", "missing.eml", "-o", "o.eml", "--reveal-password"], ["missing.eml"]),
    (["audit", "search", "--csv", "no/such/dir/x.csv"], ["no/such/dir/x.csv"]),
    (["keys", "show", "pkg_nobody"], ["pkg_nobody", "keys list"]),
    (["keys", "list", "--limit", "many"], ["--limit", "many"]),
    (["keys", "list", "--state", "lost"], ["'lost'"]),
    (["protect", "m.eml"], ["-o/--output"]),
    (["frobnicate"], ["frobnicate"]),
    (["dev", "--port", "abc"], ["--port", "'abc'", "sendguard dev --help"]),
], ids=["check-missing", "policy-missing", "protect-missing", "csv-unwritable",
        "unknown-package", "bad-number", "bad-choice", "missing-option", "unknown-command",
        "dev-bad-port"])
def test_bad_input_is_one_line(work: Path, argv: list[str], words: list[str]) -> None:
    if argv[0] == "audit":
        assert sendguard(work, "db", "upgrade").returncode == 0
    one_line(sendguard(work, *argv), *words)


def test_audit_on_an_empty_database_says_which_and_what_to_do(work: Path) -> None:
    one_line(sendguard(work, "audit", "search"), "var/sendguard.db", "sendguard db upgrade")


@pytest.mark.parametrize("argv,words", [
    (["keys", "list"], ["接続できません"]),
    (["keys", "show", "pkg_nobody"], ["パッケージ pkg_nobody はありません"]),
    (["protect", "m.eml"], ["次の指定がありません", "-o/--output"]),
    (["check", "m.eml", "--frob"], ["解釈できない引数"]),
], ids=["database", "unknown-package", "missing-option", "unknown-option"])
def test_errors_follow_lang(work: Path, argv: list[str], words: list[str]) -> None:
    env: dict[str, Any] = {"DATABASE_URL": f"postgresql://u@127.0.0.1:{_dead_port()}/x"} \
        if argv == ["keys", "list"] else {}
    line = one_line(sendguard(work, *argv, lang="ja_JP.UTF-8", **env), *words)
    assert line.startswith("sendguard: エラー: ")


# ------------------------------------------------------------------ serve and healthz

def test_serve_with_a_broken_policy_never_listens(work: Path) -> None:
    port = _dead_port()
    started = time.monotonic()
    r = sendguard(work, "serve", "--host", "127.0.0.1", "--port", str(port),
                  SENDGUARD_POLICY=str(work / "broken.toml"))
    one_line(r, "broken.toml:2", "does not start")
    assert time.monotonic() - started < 30
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def _app_with_policy(tmp_path: Path, policy: str, env: str = "test") -> Callable[[], int]:
    from service.app import create_app
    from service.settings import Config

    cfg = Config(env=env, var_dir=tmp_path / "var", policy_path=policy,
                 database_url=f"sqlite:///{tmp_path}/var/sendguard.db",
                 base_url="http://127.0.0.1:1")
    client = create_app(cfg).test_client()
    return lambda: client.get("/healthz").status_code


@pytest.mark.parametrize("policy,status", [("broken.toml", 503), ("missing.toml", 503),
                                           ("good.toml", 200)],
                         ids=["broken", "missing", "good"])
def test_healthz_is_never_ok_without_its_policy(work: Path, policy: str, status: int) -> None:
    (work / "good.toml").write_text('[organization]\ninternal_domains = ["corp.example.jp"]\n')
    assert _app_with_policy(work, str(work / policy))() == status


def test_production_app_refuses_to_build_on_a_broken_policy(work: Path) -> None:
    from service.app import create_app
    from service.errors import PolicyError
    from service.settings import Config

    cfg = Config(env="production", var_dir=work, policy_path=str(work / "broken.toml"),
                 database_url="postgresql://u@127.0.0.1:1/x", base_url="https://k.example")
    with pytest.raises(PolicyError, match=r"broken\.toml:2"):
        create_app(cfg)


# ------------------------------------------------------------------ start-up cost

def test_check_does_not_import_the_database_stack(work: Path) -> None:
    """``check`` imports only what it uses (issue 12): no SQLAlchemy, Alembic, Flask."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "service", "check", "m.eml"],
                       capture_output=True, text=True, cwd=work, check=False, timeout=60,
                       env={**os.environ, "LANG": "en_US.UTF-8"})
    assert r.returncode == 0, r.stderr
    modules = {line.split("|")[-1].strip() for line in r.stderr.splitlines()
               if line.startswith("import time:")}
    assert "service.policy.addresses" in modules       # the check really ran
    for heavy in ("sqlalchemy", "alembic", "mako", "flask", "psycopg", "gunicorn",
                  "granian", "service.server", "service.storage", "service.commands.keys"):
        assert heavy not in modules, heavy


def test_parser_states_match_the_store() -> None:
    from service.commands.keys import STATES
    from service.storage import STATES as STORE_STATES

    assert STATES == STORE_STATES


# ------------------------------------------------------------------ deploy.sh --policy

@pytest.mark.parametrize("policy,ok", [("good.toml", True), ("broken.toml", False)],
                         ids=["good", "broken"])
def test_deploy_validates_the_policy_before_uploading(work: Path, policy: str,
                                                      ok: bool) -> None:
    """The same loader as the service, before any gcloud command (a dry run prints them)."""
    (work / "good.toml").write_text('[organization]\ninternal_domains = ["corp.example.jp"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDGUARD_")}
    env["SENDGUARD_PYTHON"] = sys.executable
    r = subprocess.run(["bash", str(ROOT / "deploy" / "deploy.sh"), "--project",
                        "sendguard-test-1", "--dry-run", "--mailer",
                        "smtp://mail.example.jp:25", "--out-dir", str(work / "out"),
                        "--policy", str(work / policy)],
                       capture_output=True, text=True, env=env, cwd=work, timeout=120,
                       check=False)
    if ok:
        assert r.returncode == 0, r.stderr
        assert "secrets create sendguard-policy" in r.stdout
    else:
        assert r.returncode == 2 and "+ " not in r.stdout
        assert len(r.stderr.strip().splitlines()) == 1
        assert "nothing was deployed" in r.stderr and "broken.toml:2" in r.stderr
