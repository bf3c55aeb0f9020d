"""Link mode in Debian's Chromium (Playwright): the notice at a real SMTP server, the code
asked for and entered, the file list, both files downloaded by the browser (bytes
identical, the Japanese names exact as Chromium reads them from Content-Disposition),
then the sender recalls: the stored files are erased and the links answer 410 with the
page saying the sender withdrew them."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from service.app import create_app
from service.delivery.linkpackages import erase_package_files, protect_link_raw
from service.delivery.release import release_tick
from service.files.store import LocalFileStore
from service.mailer import SmtpMailer
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.services import Services
from service.settings import Config
from service.storage import Store
from tests.support.smtp import SmtpServer

from .helpers import PARTNER, SENDER, Clock, code_in, draft_bytes, link_token
from .test_browser import browser

__all__ = ["browser"]
pytestmark = pytest.mark.browser

FILES = {"見積書 2026年度（改訂版）.pdf": os.urandom(2 * 1024 * 1024 + 5),
         "顧客リスト 株式会社サンプル.xlsx": os.urandom(4321)}


class _Late:
    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def served_files(config: Config, store: Store, keywrapper: LocalKeyWrapper,
                 mailer: SmtpMailer, clock: Clock, tmp_path: Path
                 ) -> Iterator[tuple[Config, LocalFileStore]]:
    late = _Late()
    server = make_server("127.0.0.1", 0, late, threaded=True)
    cfg = config.with_(base_url=f"http://127.0.0.1:{server.server_port}")
    files = LocalFileStore(tmp_path / "files")
    late.app = create_app(cfg, services=Services(cfg, clock=clock, _store=store,
                                                 _keywrapper=keywrapper, _mailer=mailer,
                                                 _files=files))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield cfg, files
    server.shutdown()
    thread.join(5)


def test_notice_code_download_recall_410_in_chromium(
        browser: Any, served_files: tuple[Config, LocalFileStore], store: Store,
        keywrapper: LocalKeyWrapper, mailer: SmtpMailer, clock: Clock, smtp: SmtpServer,
        tmp_path: Path) -> None:
    cfg, files = served_files
    done = protect_link_raw(draft_bytes(FILES), store=store, keywrapper=keywrapper,
                            files=files, policy=Policy(), now=clock(), sender=SENDER,
                            key_recipients=[PARTNER])
    clock.advance(300)
    assert release_tick(store, mailer, cfg, keywrapper, clock()).sent == 1
    url = f"{cfg.base_url}/k/{link_token(smtp.wait_for(1)[0].text(), cfg.base_url)}"

    context = browser.new_context(locale="ja-JP", accept_downloads=True)
    tab = context.new_page()
    assert tab.goto(url).status == 200
    tab.click("#send-code")
    tab.fill("#code", code_in(smtp.wait_for(2)[1].text()))
    tab.click("#reveal")
    links = tab.locator("a.download")
    assert links.all_inner_texts() == list(FILES)
    for i, (name, data) in enumerate(FILES.items()):
        with tab.expect_download() as info:
            links.nth(i).click()
        download = info.value
        assert download.suggested_filename == name
        assert Path(download.path()).read_bytes() == data
    told = smtp.wait_for(3)[2]
    assert told.rcpt_tos == (SENDER,)
    tab.screenshot(path=str(tmp_path / "files.png"))
    if os.environ.get("SENDGUARD_SCREENSHOT_LINK"):
        tab.screenshot(path=os.environ["SENDGUARD_SCREENSHOT_LINK"])
    hrefs = [links.nth(i).get_attribute("href") for i in range(len(FILES))]

    package = store.revoke(done.package.id, SENDER, clock())
    assert erase_package_files(store, keywrapper, files, package, SENDER, clock(),
                               "revoked") == 2
    for href in hrefs:
        resp = tab.goto(f"{cfg.base_url}{href}")
        assert resp is not None and resp.status == 410
        assert tab.locator("#ended h2").inner_text() == "送信者がファイルを取り消しました"
    assert tab.goto(url).status == 410
    context.close()
    assert list(files.root.iterdir()) == []
