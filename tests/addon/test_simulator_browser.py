"""The compose simulator in Debian's Chromium: type, open the add-on, fix in one click, send.

Drives the real dev stack (Gmail emulator, local certificates, service on loopback) with
Python Playwright and ``/usr/bin/chromium`` (never a downloaded browser). Saves the README
screenshot to ``docs/screenshots/compose.png``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.devtools.devserver import DevStack, start_stack
from service.i18n import translator
from service.settings import Config
from tests.support.parts import CHROMIUM, CHROMIUM_ARGS, require_chromium

from .support import members

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "compose.png"
# The README's screenshot is refreshed only on request, so a test run leaves the tree clean.
UPDATE_SHOTS = os.environ.get("SENDGUARD_UPDATE_SCREENSHOTS") == "1"
LOCALE = "ja"
text = translator(LOCALE).gettext         # the add-on's words in the test's language
ntext = translator(LOCALE).ngettext


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    base = Config(env="development", var_dir=tmp_path / "var",
                  database_url=f"sqlite:///{tmp_path}/dev.db")
    s = start_stack(port=0, var_dir=tmp_path / "var", base=base)
    yield s
    s.stop()


def _entries(value: str) -> list[str]:
    return [e.strip() for e in value.replace("\n", ",").split(",") if e.strip()]


def test_compose_fix_and_send_in_chromium(stack: DevStack, tmp_path: Path) -> None:
    require_chromium()
    shot = tmp_path / "compose.png"
    from playwright.sync_api import expect, sync_playwright

    externals = members(12, ("kiyose-np.or.jp", "hoikuen-himawari.jp", "gmail.com"))
    me = stack.context.user_email
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1150}, locale="ja-JP")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{stack.url}/dev/?hl={LOCALE}")
            expect(page.locator("#panel[data-card=home]")).to_be_visible()

            page.fill("#to", ", ".join(externals))
            page.fill("#subject", "東京清瀬市みつばちプロジェクト終了のお知らせ")
            page.fill("#body", "会員のみなさま\nプロジェクト終了のお知らせです。")
            page.click("#open-addon")
            panel = page.locator("#panel[data-card=compose]")
            expect(panel).to_be_visible()
            expect(panel).to_contain_text(text("addon.section.block", n=1))
            expect(panel).to_contain_text("12")
            page.screenshot(path=str(shot))

            page.get_by_role("button", name=text("addon.button.fix_external")).click()
            expect(page.locator("#bcc")).not_to_have_value("")
            assert _entries(page.input_value("#to")) == [me]
            assert sorted(_entries(page.input_value("#bcc"))) == sorted(externals)

            page.get_by_role("button", name=text("addon.button.check_send")).click()
            confirm = page.locator("#panel[data-card=confirm]")
            expect(confirm).to_be_visible()
            # after the fix nothing interrupts (SPEC 10.6): no tick, one click on Send
            expect(confirm).to_contain_text(ntext("addon.confirm.recipients.quiet.one",
                                                  "addon.confirm.recipients.quiet", 13,
                                                  n=13))         # 12 externals + the sender
            assert confirm.locator("input[type=checkbox]").count() == 0
            confirm.locator(".footer button", has_text=text("addon.button.send")).click()
            expect(page.locator("#panel[data-card=sent]")).to_be_visible()
            row = page.locator("#sent-list tbody tr")
            expect(row).to_have_count(1)
            expect(row).to_contain_text("12: ")
            assert errors == []
        finally:
            browser.close()
    assert stack.context.emulator is not None
    sent = stack.context.emulator.sent(me)
    assert len(sent) == 1
    assert sent[0].recipients == frozenset([me, *externals])
    assert shot.stat().st_size > 10_000   # a real rendered page, not an empty image
    if UPDATE_SHOTS:
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shot.replace(SCREENSHOT)
