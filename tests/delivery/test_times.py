"""Times in notices and on the key page: the reader's language and a zone they use —
Japan time in Japanese (never a bare UTC), the organisation's zone from its policy in
English when it names one, else UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from service.delivery.notices import key_notice, retrieved_mail
from service.delivery.when import JST, format_clock, format_time, zone_named
from service.settings import Config
from service.storage import Store

from .conftest import SendDraft
from .helpers import PARTNER, Clock

AT = datetime(2026, 12, 10, 7, 49, tzinfo=UTC)


@pytest.mark.parametrize("locale,zone,expected", [
    ("ja", None, "2026年12月10日 16:49（日本時間）"),
    ("en", None, "10 Dec 2026, 07:49 UTC"),
    ("en", "Asia/Tokyo", "10 Dec 2026, 16:49 JST"),
    ("ja", "Asia/Tokyo", "2026年12月10日 16:49（日本時間）"),
    ("en", "UTC", "10 Dec 2026, 07:49 UTC"),
    ("en", "No/Such_Zone", "10 Dec 2026, 07:49 UTC"),
    ("en", "Europe/London", "10 Dec 2026, 07:49 GMT"),
    ("ja", "America/New_York", "2026年12月10日 02:49（EST）"),
], ids=["ja", "en", "en-tokyo", "ja-tokyo", "en-utc", "en-unknown", "en-london", "ja-ny"])
def test_format_time(locale: str, zone: str | None, expected: str) -> None:
    assert format_time(AT, locale, zone_named(zone)) == expected


def test_clock_and_naive_values() -> None:
    assert format_clock(AT, "ja") == "16:49（日本時間）"
    assert format_clock(AT.replace(tzinfo=None), "en") == "07:49 UTC"
    assert zone_named("Asia/Tokyo") is JST


@pytest.mark.parametrize("policy_text,english", [
    (None, "UTC"), ('[organization]\ndefault_time_zone = "Asia/Tokyo"\n', "JST"),
    ("[organization\n", "UTC"),                      # a broken policy: the default, no crash
], ids=["no-policy", "tokyo", "broken"])
def test_notices_use_the_organisation_zone(config: Config, send_draft: SendDraft,
                                           store: Store, tmp_path: Path, clock: Clock,
                                           policy_text: str | None, english: str) -> None:
    path = None
    if policy_text is not None:
        (tmp_path / "p.toml").write_text(policy_text)
        path = str(tmp_path / "p.toml")
    cfg = config.with_(policy_path=path)
    package = store.get_package(send_draft((PARTNER,)).id)
    for mail in (key_notice(cfg, package, PARTNER, "https://k.example/k/x", clock.now),
                 retrieved_mail(cfg, package, PARTNER, clock.now)):
        ja, en = mail.get_content().split("----------------------------------------")
        assert "（日本時間）" in ja and "UTC" not in ja
        assert f" {english}" in en

