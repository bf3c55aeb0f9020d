"""``deploy/deploy.sh --print-gmail-rules`` (SPEC 10.5, contract): golden files for the
three modes in both languages, run with only the tools deploy.sh needs and no gcloud on
PATH (it calls no API), and a clear exit 2 for every bad argument."""

from __future__ import annotations

from pathlib import Path

import pytest

from .deploy_support import run_deploy, tool_dir

GOLDEN = Path(__file__).with_name("golden")
MODES = ("report", "quarantine", "reject")
LANGS = ("ja", "en")
RULE = "SendGuard – unchecked outbound"
WORDS = {"en": ("Full headers", "Not contains text", "Advanced content match", "Outbound"),
         "ja": ("ヘッダー全体", "テキストを含まない", "高度なコンテンツ マッチ", "[送信]")}
ACTION = {("report", "en"): ("X-SendGuard-Bypass", "Add more recipients"),
          ("report", "ja"): ("X-SendGuard-Bypass", "受信者を追加"),
          ("quarantine", "en"): ("Quarantine reviewers group", "Quarantine message"),
          ("quarantine", "ja"): ("検疫の審査担当者グループ", "メッセージを検疫"),
          ("reject", "en"): ("Customize rejection notice", "use SendGuard › Check & send"),
          ("reject", "ja"): ("拒否通知をカスタマイズ", "SendGuard の［確認して送信］（または")}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("mode", MODES)
def test_golden(tmp_path: Path, mode: str, lang: str) -> None:
    result = run_deploy(["--print-gmail-rules", "--mode", mode, "--lang", lang],
                        tool_dir(tmp_path))
    assert result.code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (GOLDEN / f"gmail-rules-{mode}-{lang}.txt").read_text()
    for needle in (RULE, "X-SendGuard-Checked: v1;", *WORDS[lang], *ACTION[mode, lang]):
        assert needle in result.stdout, needle
    for other in (m for m in MODES if m != mode):     # each mode prints only its own action
        for needle in ACTION[other, lang]:
            assert needle not in result.stdout, (other, needle)


def test_default_mode_is_report_and_language_follows_lang(tmp_path: Path) -> None:
    bin_dir = tool_dir(tmp_path)
    ja = run_deploy(["--print-gmail-rules"], bin_dir, env={"LANG": "ja_JP.UTF-8"})
    assert ja.stdout == (GOLDEN / "gmail-rules-report-ja.txt").read_text()
    en = run_deploy(["--print-gmail-rules"], bin_dir)
    assert en.stdout == (GOLDEN / "gmail-rules-report-en.txt").read_text()


def test_ou_audit_address_and_reviewers_are_printed(tmp_path: Path) -> None:
    bin_dir = tool_dir(tmp_path)
    out = run_deploy(["--print-gmail-rules", "--mode", "quarantine", "--ou", "/営業部/東京",
                      "--reviewers", "dlp-review@corp.example.jp", "--lang", "ja"], bin_dir)
    assert out.code == 0 and "/営業部/東京" in out.stdout
    assert "dlp-review@corp.example.jp" in out.stdout
    report = run_deploy(["--print-gmail-rules", "--audit-address", "audit@corp.example.jp"],
                        bin_dir)
    assert "audit@corp.example.jp" in report.stdout and "YOUR-DOMAIN" not in report.stdout


@pytest.mark.parametrize(("args", "needle"), [
    (["--mode", "block"], "--mode must be"),
    (["--lang", "fr"], "--lang must be"),
    (["--mode"], "--mode needs a value"),
    (["--audit-address", "not-an-address"], "--audit-address"),
    (["--reviewers", "group"], "--reviewers"),
], ids=["mode", "lang", "mode-without-value", "audit-address", "reviewers"])
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    result = run_deploy(["--print-gmail-rules", *args], tool_dir(tmp_path))
    assert result.code == 2 and needle in result.stderr and result.stdout == ""


def test_rule_options_without_print_are_refused(tmp_path: Path) -> None:
    result = run_deploy(["--project", "sample-proj", "--mode", "reject"], tool_dir(tmp_path))
    assert result.code == 2 and "go with --print-gmail-rules" in result.stderr
