"""Regenerate the README screenshots from a real ``make run`` (``sendguard dev``).

Starts ``sendguard dev`` as its own process in a fresh working directory (so the page
shows ``var/dev-policy.toml`` and the dev policy's 30-second hold, exactly what a newcomer
sees), drives it in Debian's Chromium and writes ``docs/screenshots/compose.png``,
``encrypt.png`` and ``keypage.png``. Takes about a minute (the hold is real).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--lang ja]
"""

from __future__ import annotations

import argparse
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PARTNER = "tanaka@partner-shoji.co.jp"
COLLEAGUE = "suzuki@example.co.jp"
EXTERNALS = [f"member{i:04d}@{d}" for i, d in
             enumerate(["kiyose-np.or.jp", "hoikuen-himawari.jp", "gmail.com"] * 4)]
FILES = {"見積書 2026年度.xlsx": b"PK\x03\x04" + bytes(range(256)) * 64,
         "notes.txt": "打ち合わせメモ: 納期は12月です。\n".encode() * 50}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_dev(workdir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGUARD_", "DATABASE"))}
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen([sys.executable, "-m", "service", "dev", "--port", str(free_port())],
                            cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out, deadline = "", time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            out += proc.stdout.readline()
            found = re.search(r"Open (http://\S+)/dev/", out)
            if found:
                return proc, found.group(1)
    proc.kill()
    raise SystemExit("sendguard dev did not start:\n" + out)


def open_mail(page: Any, context: Any, subject: str, timeout: float = 90.0) -> Any:
    row = page.locator("#mail-list tbody tr",
                       has=page.locator("td.subject", has_text=subject)).first
    deadline = time.monotonic() + timeout
    while not row.is_visible():
        if time.monotonic() > deadline:
            raise SystemExit(f"no mail {subject!r} in the sink")
        page.click("#refresh-mail")
        page.wait_for_timeout(500)
    with context.expect_page() as opened:
        row.locator("a.view").click()
    mail = opened.value
    mail.wait_for_load_state()
    return mail


def shoot(url: str, out: Path, lang: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    from service.i18n import t

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1150},
                                      locale="ja-JP" if lang == "ja" else "en-US",
                                      timezone_id="Asia/Tokyo")
        page = context.new_page()
        page.goto(f"{url}/dev/?hl={lang}")
        expect(page.locator("#panel[data-card=home]")).to_be_visible()

        # 1. the Kiyose mistake: twelve outsiders in To
        page.fill("#to", ", ".join(EXTERNALS))
        page.fill("#subject", "東京清瀬市みつばちプロジェクト終了のお知らせ")
        page.fill("#body", "会員のみなさま\nプロジェクト終了のお知らせです。")
        page.click("#open-addon")
        expect(page.locator("#panel[data-card=compose]")).to_be_visible()
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "compose.png"))

        # 2. a new message with attachments: Encrypt & send, who gets the password
        page.reload()
        expect(page.locator("#panel[data-card=home]")).to_be_visible()
        page.fill("#to", PARTNER)
        page.fill("#cc", COLLEAGUE)
        page.fill("#subject", "お見積書の送付")
        page.fill("#body", "田中様\nお見積書をお送りします。パスワードは別途お知らせします。")
        page.set_input_files("#attach", files=[
            {"name": n, "mimeType": "application/octet-stream", "buffer": d}
            for n, d in FILES.items()])
        page.click("#open-addon")
        expect(page.locator("#panel[data-card=compose]")).to_be_visible()
        page.locator("#panel .footer button",
                     has_text=t("addon.button.check_send", lang)).click()
        confirm = page.locator("#panel[data-card=confirm]")
        expect(confirm).to_be_visible()
        boxes = confirm.locator("input[type=checkbox]")
        for i in range(boxes.count()):
            boxes.nth(i).check()
        confirm.locator(".footer button", has_text=t("addon.button.encrypt_send", lang)).click()
        keys = page.locator("#panel[data-card=encrypt_keys]")
        expect(keys).to_be_visible()
        keys.locator(f"input[value='k:{PARTNER}']").check()
        page.screenshot(path=str(out / "encrypt.png"))
        keys.locator(".footer button", has_text=t("addon.button.encrypt_send", lang)).click()
        expect(page.locator("#panel[data-card=encrypted]")).to_be_visible()

        # 3. after the dev policy's 30-second hold: the notice, the key page, the code
        notice = open_mail(page, context, t("delivery.mail.notice_subject", "ja"))
        notice.locator("a.mail-link", has_text="/k/").first.click()
        notice.wait_for_load_state()
        notice.click("#send-code")
        expect(notice.locator("#code-sent")).to_be_visible()
        code_mail = open_mail(page, context, t("delivery.mail.code_subject", "ja"))
        code = re.search(r"(?<!\d)(\d{8})(?!\d)", code_mail.locator("#mail-body").inner_text())
        assert code, "no code in the code mail"
        code_mail.close()
        notice.fill("#code", code.group(1))
        notice.click("#reveal")
        expect(notice.locator("#password")).to_be_visible()
        notice.set_viewport_size({"width": 860, "height": 620})
        notice.screenshot(path=str(out / "keypage.png"))
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sendguard-run-") as tmp:
        proc, url = start_dev(Path(tmp))
        try:
            shoot(url, out, args.lang)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=30)
    for name in ("compose", "encrypt", "keypage"):
        print(f"wrote {out / name}.png ({(out / f'{name}.png').stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
