"""Encrypt & send in the compose simulator, the whole key route in one Chromium (Playwright).

The real dev stack (Gmail emulator, local certificates, the service with its background
release loop, the file mail sink): attach two files (one with a Japanese name), Encrypt &
send to a ticked recipient, see the held card; the loop releases the password; the notice
appears in the sink panel; its /k/ link opens in the same browser; a code is requested and
read from the sink; the password is revealed and opens, with 7-Zip, the ZIP that the
emulator's sent message carries. Saves docs/screenshots/encrypt.png and keypage.png.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.devtools.devserver import DevStack, start_stack
from service.i18n import translator
from service.settings import Config
from tests.support.parts import CHROMIUM, CHROMIUM_ARGS, require_chromium

from .zips import attachments_of, open_zip

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# The README's screenshots are refreshed only on request, so a test run leaves the tree clean.
UPDATE_SHOTS = os.environ.get("SENDGUARD_UPDATE_SCREENSHOTS") == "1"
LOCALE = "ja"
text = translator(LOCALE).gettext         # the add-on's words in the test's language
japanese = translator("ja").gettext      # the key mails and page: Japanese first
PARTNER = "tanaka@partner-shoji.co.jp"
FILES = {"見積書 2026年度.xlsx": b"PK\x03\x04" + bytes(range(256)) * 64,
         "notes.txt": "打ち合わせメモ: 納期は12月です。\n".encode() * 50}
POLICY = """
[organization]
internal_domains = ["{domain}"]

[delivery]
release_delay = "2s"
"""


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    base = Config(env="development", var_dir=tmp_path / "var",
                  database_url=f"sqlite:///{tmp_path}/dev.db")
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.format(domain="example.co.jp"), encoding="utf-8")
    s = start_stack(port=0, var_dir=tmp_path / "var", base=base, policy_path=str(policy),
                    release_interval=0.2)
    yield s
    s.stop()


def _open_mail(page: Any, context: Any, subject: str, timeout: float = 15.0) -> Any:
    """Wait for a sink row whose subject holds ``subject`` (pressing the panel's refresh
    rather than waiting for its timer); open it, in a new tab as a click on "view" does."""
    row = page.locator("#mail-list tbody tr", has=page.locator("td.subject",
                                                               has_text=subject)).first
    deadline = time.monotonic() + timeout
    while not row.is_visible():
        assert time.monotonic() < deadline, f"no mail {subject!r} in the sink panel"
        page.click("#refresh-mail")
        page.wait_for_timeout(200)
    with context.expect_page() as opened:
        row.locator("a.view").click()
    mail = opened.value
    mail.wait_for_load_state()
    return mail


def test_encrypt_send_release_and_reveal_in_chromium(stack: DevStack, tmp_path: Path) -> None:
    require_chromium()
    from playwright.sync_api import FilePayload, expect, sync_playwright

    me = stack.context.user_email
    colleague = "suzuki@example.co.jp"
    shots = {name: tmp_path / f"{name}.png" for name in ("encrypt", "keypage")}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 1150},
                                          locale="ja-JP", timezone_id="Asia/Tokyo")
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{stack.url}/dev/?hl={LOCALE}")
            expect(page.locator("#panel[data-card=home]")).to_be_visible()
            expect(page.locator("#release-info")).to_contain_text(
                "2秒" if LOCALE == "ja" else "2 seconds")

            page.fill("#to", PARTNER)
            page.fill("#cc", colleague)
            page.fill("#subject", "お見積書の送付")
            page.fill("#body", "田中様\nお見積書をお送りします。パスワードは別途お知らせします。")
            page.set_input_files("#attach", files=[
                FilePayload(name=n, mimeType="application/octet-stream", buffer=d)
                for n, d in FILES.items()])
            expect(page.locator("#attachment-list li")).to_have_count(2)
            page.click("#open-addon")
            expect(page.locator("#panel[data-card=compose]")).to_be_visible()
            page.locator("#panel .footer button",
                         has_text=text("addon.button.check_send")).click()

            confirm = page.locator("#panel[data-card=confirm]")
            expect(confirm).to_be_visible()
            expect(confirm).to_contain_text("見積書 2026年度.xlsx")
            boxes = confirm.locator("input[type=checkbox]")
            for i in range(boxes.count()):
                boxes.nth(i).check()
            confirm.locator(".footer button",
                            has_text=text("addon.button.encrypt_send")).click()

            keys = page.locator("#panel[data-card=encrypt_keys]")
            expect(keys).to_be_visible()
            expect(keys).to_contain_text(f"⚠ {PARTNER}")
            expect(keys).to_contain_text("2秒保留")
            assert sorted(keys.locator("input[type=checkbox]").evaluate_all(
                "els => els.map(e => e.value)")) == sorted([f"k:{PARTNER}", f"k:{colleague}"])
            keys.locator(f"input[value='k:{PARTNER}']").check()
            page.screenshot(path=str(shots["encrypt"]))
            keys.locator(".footer button",
                         has_text=text("addon.button.encrypt_send")).click()

            held = page.locator("#panel[data-card=encrypted]")
            expect(held).to_be_visible()
            expect(held).to_contain_text("保留中")
            expect(held).to_contain_text(PARTNER)
            expect(page.locator("#sent-list tbody tr")).to_contain_text(".zip")
            expect(held).to_contain_text("JST")         # the browser's own time zone

            # the background loop releases the password; the notice lands in the sink
            notice = _open_mail(page, context, japanese("delivery.mail.notice_subject"))
            expect(notice.locator(".mail-headers")).to_contain_text(PARTNER)
            link = notice.locator("a.mail-link", has_text="/k/").first   # ja, then en
            assert link.get_attribute("href").startswith(stack.url + "/k/")
            link.click()
            notice.wait_for_load_state()
            assert re.match(re.escape(stack.url) + r"/k/[A-Za-z0-9_-]{43}$", notice.url)
            keypage = notice
            expect(keypage.locator("#send-code")).to_have_text(
                japanese("delivery.page.request_button"))
            keypage.click("#send-code")
            expect(keypage.locator("#code-sent")).to_be_visible()

            code_mail = _open_mail(page, context, japanese("delivery.mail.code_subject"))
            match = re.search(r"(?<!\d)(\d{8})(?!\d)", code_mail.locator("#mail-body").inner_text())
            assert match, "no code in the code mail"
            code_mail.close()
            keypage.fill("#code", match.group(1))
            keypage.click("#reveal")
            password = keypage.locator("#password").inner_text().strip()
            assert len(password) >= 20
            keypage.set_viewport_size({"width": 860, "height": 560})
            keypage.screenshot(path=str(shots["keypage"]))
            assert errors == []
        finally:
            browser.close()
    assert stack.context.emulator is not None
    [sent] = stack.context.emulator.sent(me)
    assert sent.recipients == {PARTNER, colleague}
    [(_, data)] = attachments_of(sent.raw)
    assert open_zip(data, password, tmp_path) == FILES
    for shot in shots.values():
        assert shot.stat().st_size > 10_000   # a real rendered page, not an empty image
    if UPDATE_SHOTS:
        DOCS.mkdir(parents=True, exist_ok=True)
        for name, shot in shots.items():
            shot.replace(DOCS / f"{name}.png")
