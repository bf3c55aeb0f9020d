"""``sendguard dev`` (``make run``) as a first impression (issue 10): ``/`` leads to the
simulator, its labels follow its language switch (Chromium), a sent ZIP can be
downloaded from the Sent list, an over-size draft says why it was not saved, the log
never holds a ``/k/`` token or a code and is quiet while the simulator polls, the
development files are owner-only, and the dev policy is reloaded when it changes."""

from __future__ import annotations

import base64
import io
import os
import re
import select
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from service.devtools.devserver import DEV_POLICY, DevStack, PolicyWatcher, start_stack
from service.settings import Config
from tests.support.parts import CHROMIUM, CHROMIUM_ARGS, require_chromium


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    base = Config(env="development", var_dir=tmp_path / "var",
                  database_url=f"sqlite:///{tmp_path}/var/sendguard.db")
    s = start_stack(port=0, var_dir=tmp_path / "var", base=base, release_interval=None)
    yield s
    s.stop()


def test_root_leads_to_the_simulator(stack: DevStack) -> None:
    resp = requests.get(stack.url + "/", timeout=10, allow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/dev/")
    assert 'id="open-addon"' in requests.get(stack.url + "/", timeout=10).text


def test_production_has_no_root_redirect(tmp_path: Path) -> None:
    from service.app import create_app

    cfg = Config(env="production", var_dir=tmp_path, database_url="postgresql://u@h/x",
                 base_url="https://k.example", master_key="00" * 32)
    client = create_app(cfg).test_client()
    assert client.get("/").status_code == 404 and client.get("/dev/").status_code == 404


def test_development_files_are_owner_only(stack: DevStack, tmp_path: Path) -> None:
    requests.get(stack.url + "/healthz", timeout=10)        # opens the database
    assert stack.app.extensions["sendguard"].keywrapper      # makes the development key
    var = tmp_path / "var"
    for path in (var, var / "sendguard.db", var / "master.key"):
        assert path.exists(), path
        assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_a_sent_zip_can_be_downloaded_from_the_sent_list(stack: DevStack) -> None:
    from email.message import EmailMessage

    from service.gmail.client import ApiGmailClient

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = stack.context.user_email, "a@b.example", "zip"
    msg.set_content("see attached")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("見積書.txt", "x")
    msg.add_attachment(buf.getvalue(), maintype="application", subtype="zip",
                       filename="attachments-20261203.zip")
    with ApiGmailClient(stack.context.oauth_token, stack.context.gmail_endpoint) as gmail:
        ref = gmail.create_draft(msg.as_bytes())
        sent = gmail.send_draft(ref.draft_id)
    listed = requests.get(stack.url + "/dev/api/sent", timeout=10).json()["sent"]
    assert listed[0]["attachments"] == ["attachments-20261203.zip"]
    resp = requests.get(f"{stack.url}/dev/api/sent/{sent.message_id}/attachments/0", timeout=10)
    assert resp.status_code == 200 and resp.content == buf.getvalue()
    assert "attachments-20261203.zip" in resp.headers["Content-Disposition"]
    for bad in (f"{sent.message_id}/attachments/1", "nope/attachments/0"):
        assert requests.get(f"{stack.url}/dev/api/sent/{bad}", timeout=10).status_code == 404


@pytest.mark.parametrize("lang,words", [("ja", "35 MB まで")], ids=["ja"])  # en: Chromium
def test_an_over_size_draft_says_why(stack: DevStack, lang: str, words: str) -> None:
    data = base64.b64encode(os.urandom(30 * 1024 * 1024)).decode()
    resp = requests.post(stack.url + "/dev/api/draft", timeout=60, json={
        "to": ["a@b.example"], "subject": "big", "locale": lang,
        "attachments": [{"name": "video.mp4", "type": "video/mp4", "data": data}]})
    assert resp.status_code == 413 and words in resp.json()["error"]


def test_labels_follow_the_language_switch_and_big_file_is_explained(stack: DevStack,
                                                                      tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page()
        tab.goto(stack.url + "/dev/?hl=en")
        head = tab.locator("#sent-list th").first
        expect(head).to_have_text("Subject")
        tab.select_option("#locale", "ja")
        expect(head).to_have_text("件名")
        expect(tab.locator("[data-i18n=new_message]").first).to_have_text("新規メッセージ")
        expect(tab.locator("#release-info [data-lang=ja]")).to_be_visible()
        expect(tab.locator("#release-info [data-lang=en]")).to_be_hidden()
        tab.select_option("#locale", "en")
        expect(head).to_have_text("Subject")
        big = tmp_path / "video.mp4"
        big.write_bytes(os.urandom(30 * 1024 * 1024))
        tab.set_input_files("#attach", str(big))
        expect(tab.locator("#banner")).to_contain_text("35 MB", timeout=60_000)
        expect(tab.locator("#save-state")).to_have_text("Not saved")
        browser.close()


def test_policy_is_reloaded_when_it_changes(stack: DevStack, tmp_path: Path) -> None:
    watcher = PolicyWatcher(stack.app)
    path = Path(stack.config.policy_path or "")
    assert "reloads this file" in path.read_text() and path.read_text().startswith("# Written")
    assert not watcher.check()                              # unchanged
    path.write_text('[delivery]\nrelease_delay = "2m"\n')
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert watcher.check()
    assert stack.app.extensions["sendguard"].policy.release_delay == 120
    path.write_text("[delivery]\nrelease_delay = \"soon\"\n")   # broken: the old one stays
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert not watcher.check()
    assert stack.app.extensions["sendguard"].policy.release_delay == 120
    assert "release_delay" in DEV_POLICY


def _read_for(proc: subprocess.Popen[bytes], seconds: float) -> str:
    """Raw reads: a buffered readline would hide lines that select cannot see."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    out = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
    return out.decode("utf-8", "replace")


def test_dev_log_has_no_token_and_stays_quiet(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGUARD_", "LC_"))}
    env.update(LANG="en_US.UTF-8", PYTHONUNBUFFERED="1", SENDGUARD_VAR_DIR=str(tmp_path / "var"))
    with socketless_port() as port:
        proc = subprocess.Popen([sys.executable, "-m", "service", "dev", "--port", str(port)],
                                cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    try:
        out = ""
        deadline = time.monotonic() + 60
        while "SendGuard is running" not in out and time.monotonic() < deadline:
            out += _read_for(proc, 0.5)
        url = re.search(r"Open (http://\S+)/dev/", out)
        assert url, out
        token = "Zk3" + "A" * 40
        for _ in range(5):                          # the simulator's polling, a key link
            requests.get(url.group(1) + "/dev/api/mail", timeout=10)
            requests.get(url.group(1) + "/dev/api/sent", timeout=10)
        requests.get(f"{url.group(1)}/k/{token}", timeout=10)
        requests.post(f"{url.group(1)}/k/{token}", data={"code": "12345678"}, timeout=10)
        deadline = time.monotonic() + 20
        while out.count("/k/[redacted]") < 2 and time.monotonic() < deadline:
            out += _read_for(proc, 0.5)              # both key-link requests, however slow
        out += _read_for(proc, 0.5)
        assert token not in out and "12345678" not in out
        assert "/dev/api/mail" not in out and "/dev/api/sent" not in out
        assert "/k/[redacted]" in out                  # the request is logged, redacted
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


class socketless_port:
    """A free loopback port, released before the server binds it."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        return int(self.sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
