"""Every policy error kind through ``sendguard check``, in Japanese and English (issue 10,
"every CLI error follows LANG"): exit 2, one line, the detail in the reader's language,
the file:line, key names and values verbatim. The command runs in process
(``tests/support/cli.py``: ~10 ms a case instead of a Python start-up); one case per
language, and tests/test_cli_failures.py, go through the real process."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from service.errors import PolicyError
from service.policy.policyfile import parse_policy
from tests.support.cli import Cli, cli
from tests.test_cli_failures import MESSAGE, one_line, sendguard

__all__ = ["cli"]

# name: (policy text, line, verbatim parts, English words, Japanese words)
CASES: dict[str, tuple[str, int | None, list[str], str, str]] = {
    "invalid-toml": ("[organization\n", 1, [], "invalid TOML", "TOMLとして正しくありません"),
    "unknown-section": ("\n[recipents]\nmax_bcc = 1\n", 2, ["[recipents]", "recipients"],
                        "unknown section", "不明なセクション"),
    "not-a-table": ("history = 1\n", 1, ["'history'"], "must be a table", "テーブル"),
    "unknown-key": ("[recipients]\nmax_bc = 1\n", 2, ["recipients.max_bc", "max_bcc"],
                    "unknown key", "不明なキー"),
    "whole-number": ("[recipients]\nmax_bcc = \"ten\"\n", 2, ["recipients.max_bcc"],
                     "must be a whole number, not a string", "整数で指定してください"),
    "negative": ("[recipients]\nmax_bcc = -1\n", 2, ["recipients.max_bcc"],
                 "must not be negative", "負の数"),
    "bool": ("[content]\ncheck_internal = 1\n", 2, ["content.check_internal"],
             "must be true or false, not a number", "true か false"),
    "duration": ("[delivery]\nrelease_delay = \"5 minutes\"\n", 2,
                 ["delivery.release_delay", '"5m"'], "must be seconds or a duration",
                 "期間で指定してください"),
    "deadline": ("[attachments]\ncheck_deadline = 90\n", 2,
                 ["attachments.check_deadline", "50"], "between 1 second", "1秒から50秒"),
    "size": ("[attachments]\nmax_total_size = \"ten megs\"\n", 2,
             ["attachments.max_total_size", '"10MB"'], "must be a size", "サイズ"),
    "one-of": ("[delivery]\nrelease_mode = \"later\"\n", 2,
               ["delivery.release_mode", "delay, manual, sender_only"], "must be one of",
               "次のいずれか"),
    "strings": ("[content]\nblocked_keywords = \"secret\"\n", 2,
                ["content.blocked_keywords"], "must be a list of strings, not a string",
                "文字列のリスト"),
    "empty-string": ("[content]\nblocked_keywords = [\"a\", \" \"]\n", 2,
                     ["content.blocked_keywords"], "empty strings", "空の文字列"),
    "time-zone": ("[organization]\ndefault_time_zone = \"Mars/Olympus\"\n", 2,
                  ["Mars/Olympus", "Asia/Tokyo"], "not a known IANA time zone",
                  "既知のIANAタイムゾーンではありません"),
    "domain": ("[organization]\nworkspace_domains = [\n  \"corp.example.jp\",\n"
               "  \"bad domain\",\n]\n", 4, ["organization.workspace_domains", "'bad domain'"],
               "is not a valid domain", "正しいドメインではありません"),
    "pattern-two-at": ("[recipients]\nblocked_domains = [\"a@b@c.example\"]\n", 2,
                       ["recipients.blocked_domains", "'a@b@c.example'"],
                       "has more than one @", "@ が2つ以上"),
    "pattern-excepts-nothing": ("[organization]\ninternal_domains = [\"-\"]\n", 2,
                                ["organization.internal_domains", "'-'"],
                                "excepts nothing", "何も除外していません"),
    "pattern-no-domain": ("[recipients]\ncaution_domains = [\"sato@\"]\n", 2, ["'sato@'"],
                          "no domain after @", "ドメインがありません"),
    "pattern-blanks": ("[recipients]\npersonal_domains = [\"gmail com\"]\n", 2,
                       ["'gmail com'"], "blanks", "空白"),
    "not-utf8": (b"[organization]\n\xff\n".decode("latin-1"), None, [], "not UTF-8",
                 "UTF-8のテキストではありません"),
}


def _write(path: Path, text: str) -> None:
    data = text.encode("latin-1") if text.startswith("[organization]\n\xff") else \
        text.encode("utf-8")
    path.write_bytes(data)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "m.eml").write_bytes(MESSAGE)
    return tmp_path


def _check_policy_error(run: Callable[..., Any], work: Path,
                        case: tuple[str, int | None, list[str], str, str], lang: str) -> None:
    text, line, verbatim, en, ja = case
    _write(work / "p.toml", text)
    where = f"p.toml:{line}: " if line else "p.toml: "
    out = one_line(run(work, "check", "m.eml", "--policy", "p.toml", lang=lang),
                   where, *verbatim)
    if lang.startswith("ja"):
        assert out.startswith("sendguard: エラー: ") and ja in out and en not in out
    else:
        assert out.startswith("sendguard: error: ") and en in out


def _in_process(cli: Cli) -> Callable[..., Any]:
    return lambda cwd, *argv, lang: cli(*argv, cwd=cwd, lang=lang)


@pytest.mark.parametrize("lang", ["ja_JP.UTF-8", "en_US.UTF-8"], ids=["ja", "en"])
@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_policy_error_follows_lang(cli: Cli, work: Path,
                                   case: tuple[str, int | None, list[str], str, str],
                                   lang: str) -> None:
    _check_policy_error(_in_process(cli), work, case, lang)


@pytest.mark.parametrize("lang", ["ja_JP.UTF-8", "en_US.UTF-8"], ids=["ja", "en"])
@pytest.mark.parametrize("case", ["unknown-key", "not-utf8"])
def test_policy_error_follows_lang_in_the_real_process(work: Path, case: str,
                                                       lang: str) -> None:
    """The same through ``sendguard`` started as a process: its LANG, its stderr."""
    _check_policy_error(sendguard, work, CASES[case], lang)


PARSED = {k: v for k, v in CASES.items() if v[1] is not None}   # not the file-reading one


@pytest.mark.parametrize("case", list(PARSED.values()), ids=list(PARSED))
def test_str_stays_english(case: tuple[str, int | None, list[str], str, str]) -> None:
    """Logs and ``match=`` read the English text; ``localized`` gives the reader's."""
    text, line, _verbatim, en, ja = case
    with pytest.raises(PolicyError) as err:
        parse_policy(text, source="p.toml")
    assert en in str(err.value) and ja not in str(err.value)
    assert ja in err.value.localized("ja") and err.value.line == line


@pytest.mark.parametrize("argv,ja,en", [
    (["check", "m.eml", "--policy", "nope.toml"], "nope.toml: ポリシーファイルがありません",
     "nope.toml: policy file not found"),
    (["check", "nope.eml"], "nope.eml: ファイルがありません", "nope.eml: no such file"),
    (["check", "."], ".: ディレクトリです", ".: is a directory"),
    (["check", "bin.eml"], "bin.eml: メールメッセージではありません",
     "bin.eml: not an e-mail message"),
    (["check", "m.eml", "--policy", "."], ".: ポリシーファイルではなくディレクトリです",
     ".: the policy file is a directory"),
    (["keys", "list", "--limit", "0"], "--limit には1以上", "--limit must be at least 1"),
    (["audit", "search", "--since", "2026-02-01", "--until", "2026-01-01"],
     "--since は --until より前", "--since must be before --until"),
    (["audit", "search"], "'sendguard db upgrade' を実行してください",
     "no SendGuard tables"),
], ids=["policy-missing", "message-missing", "message-directory", "not-a-message",
        "policy-directory", "keys-limit", "audit-range", "audit-no-tables"])
@pytest.mark.parametrize("lang", ["ja_JP.UTF-8", "en_US.UTF-8"], ids=["ja", "en"])
def test_other_input_errors_follow_lang(cli: Cli, work: Path, argv: list[str], ja: str,
                                        en: str, lang: str) -> None:
    (work / "bin.eml").write_bytes(b"\x00\x01binary\n\n")
    if argv[:2] == ["audit", "search"]:
        (work / "var").mkdir()
        (work / "var" / "sendguard.db").write_bytes(b"")
    out = one_line(cli(*argv, cwd=work, lang=lang))
    assert (ja if lang.startswith("ja") else en) in out, out
