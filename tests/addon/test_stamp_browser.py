"""The compose simulator in Debian's Chromium, with the organisation's reject rule on
(``sendguard dev`` default): Gmail's own Send is rejected with the notice in the sender's
inbox; the same mail through Check & send is stamped and delivered; the home card says
why (SPEC 10.5)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.devtools.devserver import DevStack, start_stack
from service.i18n import translator
from service.settings import Config
from tests.support.parts import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser
LOCALE = "en"
text = translator(LOCALE).gettext         # the add-on's words in the test's language
PARTNER = "tanaka@partner-shoji.co.jp"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    base = Config(env="development", var_dir=tmp_path / "var",
                  database_url=f"sqlite:///{tmp_path}/dev.db")
    s = start_stack(port=0, var_dir=tmp_path / "var", base=base, release_interval=None)
    yield s
    s.stop()


def test_gmail_send_is_rejected_and_check_and_send_is_delivered(stack: DevStack) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    me = stack.context.user_email
    emulator = stack.context.emulator
    assert emulator is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, locale="en-US")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{stack.url}/dev/?hl={LOCALE}")
            home = page.locator("#panel[data-card=home]")
            expect(home).to_be_visible()
            expect(home).to_contain_text("Send with Check & send")

            # 1. Gmail's own Send: the rule rejects it; the notice says what to do
            page.fill("#to", PARTNER)
            page.fill("#subject", "Quotation")
            page.fill("#body", "Dear Mr Tanaka,\nplease find the quotation.")
            page.click("#gmail-send")
            banner = page.locator("#banner")
            expect(banner).to_contain_text("Message blocked")
            expect(banner).to_contain_text("Check & send")
            row = page.locator("#sent-list tbody tr")
            expect(row).to_have_count(1)
            expect(row.first).to_contain_text("rejected")

            # 2. The same mail through the add-on: checked, stamped, delivered
            page.click("#new-message")
            page.fill("#to", PARTNER)
            page.fill("#subject", "Quotation")
            page.fill("#body", "Dear Mr Tanaka,\nplease find the quotation.")
            page.click("#open-addon")
            expect(page.locator("#panel[data-card=compose]")).to_be_visible()
            page.get_by_role("button", name=text("addon.button.check_send")).click()
            confirm = page.locator("#panel[data-card=confirm]")
            expect(confirm).to_be_visible()
            boxes = confirm.locator("input[type=checkbox]")
            for i in range(boxes.count()):
                boxes.nth(i).check()
            confirm.locator(".footer button", has_text=text("addon.button.send")).click()
            expect(page.locator("#panel[data-card=sent]")).to_be_visible()
            page.click("#refresh-sent")
            expect(row).to_have_count(2)
            expect(row.first).to_contain_text("delivered · stamped")
            assert errors == []
        finally:
            browser.close()
    first, second = emulator.outbound(me)
    assert first.outcome.disposition() == "rejected" and first.outcome.rejected == [PARTNER]
    assert second.outcome.disposition() == "delivered" and PARTNER in second.outcome.delivered
    assert b"X-SendGuard-Checked: v1; k=dev1; " in second.outcome.delivered[PARTNER]
    assert len(emulator.sent(me)) == 2          # both are in Sent, as in Gmail
