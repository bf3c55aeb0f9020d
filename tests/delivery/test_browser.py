"""The whole route in Debian's Chromium (Playwright): encrypt & send, hold, release, the
notice at a real SMTP server, the link opened twice (GET consumes nothing), a code
requested and received, entered, the password revealed, and 7-Zip opening the ZIP with it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from service.app import create_app
from service.delivery.release import release_tick
from service.devtools.gmail_emulator.memory import InMemoryGmailClient
from service.mailer import SmtpMailer
from service.protect.keywrap import LocalKeyWrapper
from service.services import Services
from service.settings import Config
from service.storage import Store
from tests.support.parts import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.support.smtp import SmtpServer

from .conftest import SendDraft
from .helpers import FILES, PARTNER, SENDER, Clock, code_in, link_token, open_zip, sevenzip, zip_of

pytestmark = pytest.mark.browser



@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


class _Late:
    """A WSGI app set after the server has its port (the base URL needs the port)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def served(config: Config, store: Store, keywrapper: LocalKeyWrapper, mailer: SmtpMailer,
           clock: Clock) -> Iterator[Config]:
    late = _Late()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    cfg = config.with_(base_url=f"http://127.0.0.1:{server.server_port}")
    late.app = create_app(cfg, services=Services(cfg, clock=clock, _store=store,
                                                 _keywrapper=keywrapper, _mailer=mailer))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield cfg
    server.shutdown()
    thread.join(5)


def test_encrypt_send_release_and_reveal_in_chromium(
        browser: Any, served: Config, send_draft: SendDraft, gmail: InMemoryGmailClient,
        store: Store, keywrapper: LocalKeyWrapper, mailer: SmtpMailer, clock: Clock,
        smtp: SmtpServer, tmp_path: Path) -> None:
    package = send_draft((PARTNER,))
    assert release_tick(store, mailer, served, keywrapper,
                        clock.now + timedelta(seconds=299)).released == []   # held
    clock.advance(300)
    assert release_tick(store, mailer, served, keywrapper, clock.now).sent == 1
    [notice] = smtp.wait_for(1)
    assert notice.rcpt_tos == (PARTNER,)
    url = f"{served.base_url}/k/{link_token(notice.text(), served.base_url)}"

    context = browser.new_context(locale="ja-JP",
                                  permissions=["clipboard-read", "clipboard-write"])
    violations: list[str] = []
    tab = context.new_page()
    tab.on("console", lambda msg: violations.append(msg.text)
           if "Content Security Policy" in msg.text else None)
    grants_before = store.list_grants(package.id)
    for _ in range(2):                                    # pre-fetch, then the person
        resp = tab.goto(url)
        assert resp is not None and resp.status == 200
        assert resp.headers["referrer-policy"] == "no-referrer"
    assert store.list_grants(package.id) == grants_before and len(smtp.messages) == 1
    assert tab.locator("#send-code").inner_text() == "確認コードを送る"
    bg = tab.evaluate("getComputedStyle(document.querySelector('main')).backgroundColor")
    assert bg == "rgb(255, 255, 255)"                     # the nonce'd style applied

    tab.click("#lang-toggle")                             # English, still consuming nothing
    assert tab.locator("#send-code").inner_text() == "Send me a code"
    tab.click("#send-code")
    assert "t***@partner.example.com" in tab.locator("#code-sent").inner_text()
    code = code_in(smtp.wait_for(2)[1].text())
    tab.fill("#code", code)
    tab.click("#reveal")
    password = tab.locator("#password").inner_text().strip()
    tab.click("#copy")
    tab.wait_for_function("document.getElementById('copy').textContent === 'Copied'")
    assert tab.evaluate("navigator.clipboard.readText()") == password
    assert violations == []
    tab.screenshot(path=str(tmp_path / "revealed.png"))
    if os.environ.get("SENDGUARD_SCREENSHOT"):
        tab.screenshot(path=os.environ["SENDGUARD_SCREENSHOT"])

    [sent] = gmail.sent()
    _, data = zip_of(sent.raw)
    assert open_zip(sevenzip(), data, password, tmp_path) == FILES
    retrieved = smtp.wait_for(3)[2]
    assert retrieved.rcpt_tos == (SENDER,)
    assert tab.goto(url).status == 200                   # the link page again, nothing used
    context.close()
    assert store.get_package(package.id).reveal_count == 1


def test_wrong_code_then_right_one_then_language_reload_and_back(
        browser: Any, served: Config, send_draft: SendDraft, store: Store,
        keywrapper: LocalKeyWrapper, mailer: SmtpMailer, clock: Clock,
        smtp: SmtpServer) -> None:
    """A person's ordinary mistakes: a mistyped code keeps them on the form with the tries
    left; the right one shows the password; switching language, Reload and Back show it
    again without a new code, and the reveal is counted once."""
    package = send_draft((PARTNER,))
    clock.advance(300)
    assert release_tick(store, mailer, served, keywrapper, clock.now).sent == 1
    url = f"{served.base_url}/k/{link_token(smtp.wait_for(1)[0].text(), served.base_url)}"
    context = browser.new_context(locale="ja-JP")
    tab = context.new_page()
    tab.goto(url)
    tab.click("#send-code")
    code = code_in(smtp.wait_for(2)[1].text())
    assert "日本時間" in tab.locator("#code-sent").inner_text()     # never bare UTC in Japanese
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    tab.fill("#code", wrong)
    tab.click("#reveal")
    assert "あと4回" in tab.locator("#message").inner_text()
    assert tab.locator("#code").is_visible()                      # still on the code form
    tab.reload()                                                  # Reload repeats nothing
    assert tab.locator("#code").is_visible()
    assert store.list_grants(package.id)[0].code_attempts == 1
    tab.fill("#code", code)
    tab.click("#reveal")
    password = tab.locator("#password").inner_text().strip()
    assert password
    tab.reload()                                                  # no "resubmit the form?"
    assert tab.locator("#password").inner_text().strip() == password
    tab.click("#lang-toggle")                                     # English: same password
    assert tab.locator("#password").inner_text().strip() == password
    assert tab.locator("#copy").inner_text() == "Copy"
    tab.reload()
    assert tab.locator("#password").inner_text().strip() == password
    tab.go_back()                                                 # the Japanese page again
    assert tab.locator("#password").inner_text().strip() == password
    assert tab.locator("#copy").inner_text() == "コピー"
    assert store.get_package(package.id).reveal_count == 1
    assert len(smtp.messages) == 3            # notice, one code, the sender's notice: no more
    context.close()


def test_ended_link_says_what_to_do_in_chromium(
        browser: Any, served: Config, send_draft: SendDraft, store: Store,
        keywrapper: LocalKeyWrapper, mailer: SmtpMailer, clock: Clock,
        smtp: SmtpServer) -> None:
    package = send_draft((PARTNER,))
    clock.advance(300)
    release_tick(store, mailer, served, keywrapper, clock.now)
    url = f"{served.base_url}/k/{link_token(smtp.wait_for(1)[0].text(), served.base_url)}"
    store.revoke(package.id, SENDER, clock.now)
    context = browser.new_context(locale="en-US")
    tab = context.new_page()
    resp = tab.goto(url)
    assert resp is not None and resp.status == 410
    text = tab.locator("#ended").inner_text()
    assert "withdrew" in text and SENDER in text and tab.locator("#code").count() == 0
    context.close()
