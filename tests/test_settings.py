"""Configuration from the environment; production refuses to start on missing settings."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from service.errors import ConfigError
from service.settings import Config

ROOT = Path(__file__).resolve().parents[1]
PROD = {
    "SENDGUARD_ENV": "production",
    "SENDGUARD_MASTER_KEY": "ab" * 32,
    "SENDGUARD_STAMP_KEY": "prod1:" + "cd" * 32,
    "SENDGUARD_BASE_URL": "https://sendguard.example.run.app",
    "SENDGUARD_ADDON_AUDIENCE": "https://sendguard.example.run.app",
    "SENDGUARD_ADDON_SERVICE_ACCOUNT": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
    "SENDGUARD_OAUTH_CLIENT_ID": "1-abc.apps.googleusercontent.com",
    "SENDGUARD_MAILER": "smtp://smtp.example:587",
    "SENDGUARD_SCHEDULER_SERVICE_ACCOUNT": "scheduler@p.iam.gserviceaccount.com",
    "DATABASE_URL": "postgresql://u@/sendguard?host=/cloudsql/p:r:i",
}


def test_development_defaults() -> None:
    cfg = Config.from_env({})
    assert not cfg.production and cfg.database_url == "sqlite:///var/sendguard.db"
    assert cfg.port == 8080


def test_production_accepts_complete_settings() -> None:
    cfg = Config.from_env(PROD)
    assert cfg.production and cfg.base_url == PROD["SENDGUARD_BASE_URL"]


@pytest.mark.parametrize("missing", [k for k in PROD if k not in ("SENDGUARD_ENV",
                                                                  "DATABASE_URL")])
def test_production_names_each_missing_setting(missing: str) -> None:
    env = {k: v for k, v in PROD.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        Config.from_env(env)
    assert missing in str(err.value)
    assert PROD["SENDGUARD_MASTER_KEY"] not in str(err.value)
    assert "cd" * 32 not in str(err.value)


@pytest.mark.parametrize("value,needle", [
    ("cd" * 32, "<key id>:"),
    ("prod1:" + "cd" * 31, "31 bytes"),
    ("prod1:" + "zz" * 32, "not hexadecimal"),
], ids=["no-key-id", "short", "not-hex"])
def test_a_bad_stamp_key_refuses_to_start_without_showing_it(value: str, needle: str) -> None:
    for env in (PROD, {}):
        with pytest.raises(ConfigError, match=needle) as err:
            Config.from_env({**env, "SENDGUARD_STAMP_KEY": value})
        assert "cd" * 31 not in str(err.value) and "SENDGUARD_STAMP_KEY" in str(err.value)


def test_production_never_uses_the_development_stamp_key(tmp_path: Path) -> None:
    from service.stamp.keys import keys_for, load_or_create

    load_or_create(tmp_path)                      # a dev key exists under var
    cfg = Config(env="production", var_dir=tmp_path)   # as if the variable were unset
    with pytest.raises(ConfigError, match="development key is never used"):
        keys_for(cfg)


@pytest.mark.parametrize("value,expected", [("", False), ("true", True), ("0", False),
                                            ("yes", True)])
def test_enforce_check_send_flag(value: str, expected: bool) -> None:
    assert Config.from_env({"SENDGUARD_ENFORCE_CHECK_SEND": value}).enforce_check_send is expected


def test_enforce_check_send_rejects_other_values() -> None:
    with pytest.raises(ConfigError, match="SENDGUARD_ENFORCE_CHECK_SEND"):
        Config.from_env({"SENDGUARD_ENFORCE_CHECK_SEND": "maybe"})


@pytest.mark.parametrize("change,needle", [
    ({"SENDGUARD_BASE_URL": "http://insecure.example"}, "https"),
    ({"SENDGUARD_MAILER": "sink"}, "real mailer"),
    ({"DATABASE_URL": "sqlite:///var/x.db"}, "PostgreSQL"),
    ({"SENDGUARD_ENV": "staging"}, "SENDGUARD_ENV"),
    ({"PORT": "eighty"}, "PORT"),
], ids=["http-base-url", "sink-mailer", "sqlite", "bad-env", "bad-port"])
def test_production_refuses_development_parts(change: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        Config.from_env({**PROD, **change})


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDGUARD_")}
    env.update(extra)
    return env


def test_serve_in_production_without_settings_exits_2_naming_them(tmp_path: Path) -> None:
    r = subprocess.run([sys.executable, "-m", "service", "serve"], capture_output=True,
                       text=True, env=_env(SENDGUARD_ENV="production"), timeout=60,
                       check=False, cwd=tmp_path)
    assert r.returncode == 2
    assert "SENDGUARD_MASTER_KEY" in r.stderr and "SENDGUARD_BASE_URL" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_healthz_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", "1", "--threads", "2"],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert r.status_code == 200
        assert r.json() == {"status": "ok", "database": "ok", "policy": "ok"}
        db = tmp_path / "var" / "sendguard.db"
        assert db.exists() and db.stat().st_mode & 0o077 == 0      # owner-only
    finally:
        proc.send_signal(signal.SIGTERM)
        out = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, out.decode(errors="replace")


@pytest.mark.parametrize("value,days", [("30d", 30.0), ("36h", 1.5), ("off", None),
                                        ("", 30.0)], ids=["30d", "36h", "off", "empty"])
def test_key_retention(value: str, days: float | None) -> None:
    period = Config.from_env({"SENDGUARD_KEY_RETENTION": value}).retention()
    assert (period.total_seconds() / 86400 if period else None) == days


def test_bad_key_retention_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="SENDGUARD_KEY_RETENTION"):
        Config.from_env({"SENDGUARD_KEY_RETENTION": "a month"})


def test_database_down_is_503_on_public_pages(tmp_path: Path) -> None:
    from service.app import create_app

    with socket.socket() as s:      # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cfg = Config(env="test", var_dir=tmp_path,
                 database_url=f"postgresql://nobody@127.0.0.1:{port}/none?connect_timeout=2",
                 base_url="http://127.0.0.1:1")
    client = create_app(cfg).test_client()
    for path in ("/k/" + "A" * 43, "/healthz"):
        r = client.get(path)
        assert r.status_code == 503, (path, r.status_code)
        assert b"Traceback" not in r.data
