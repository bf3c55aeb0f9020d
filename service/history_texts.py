"""Texts of the recipient history (SPEC 10.2): its findings, hints and commands, ja/en."""

from __future__ import annotations

EN: dict[str, str] = {
    "finding.first_time_recipient": "You have never sent mail to {address} before.",
    "finding.new_domain_in_reply": (
        "This reply adds {domain}, which no earlier message of the thread went to."),
    "finding.name_address_mismatch": (
        "You have written to {name} at {known} {n} {n|time|times}; this is {address}."),
    "finding.similar_recipient": (
        "You have written to {name} at {known} {n} {n|time|times}; this is {address}, which you "
        "have never used."),
    "finding.salutation_mismatch": (
        "The greeting names {greeting}, but no recipient matches it by name, history or "
        "domain.{evidence}"),
    "history.salutation.org_evidence": (
        " Your mail to that company has gone to {domain} ({n} {n|time|times})."),
    "hint.first_time_recipient": "Make sure this new address is the person you mean.",
    "hint.new_domain_in_reply": (
        "Check that the added recipient belongs in this conversation before replying."),
    "hint.name_address_mismatch": (
        "Autocomplete may have picked another address: replace it with the one you know."),
    "hint.similar_recipient": (
        "Autocomplete may have picked a neighbour: replace it with the one you know."),
    "hint.salutation_mismatch": (
        "Check that the greeting and the recipients are for the same person and company."),
    "history.replace": "Replace with {address}",
    "cli.history_progress": "{n} messages read ({imported} imported, {skipped} skipped)",
    "cli.history_imported": "Imported {imported} messages, skipped {skipped}, for {user}.",
    "cli.history_forgot": "Erased the history of {user} ({n} records).",
    "cli.history_not_mbox": "{path}: not an mbox file (no \"From \" line at the start)",
    "cli.history_bad_user": "--user {user}: not an e-mail address",
    "history.import.title": "Who you usually write to",
    "history.import.offer": (
        "SendGuard can learn from your Sent folder whom you usually write to, so that it "
        "notices an unusual or look-alike recipient sooner. It reads only the senders, "
        "recipients and dates of your sent mail (never a subject, body or attachment), "
        "in the background. Without it, SendGuard learns from the mail you send through it."),
    "history.import.allow": "Allow reading Sent headers",
    "history.import.starting": "Reading your Sent folder starts in the background.",
    "history.import.progress": (
        "Reading your Sent folder in the background: {n} {n|message|messages} so far "
        "({imported} new)."),
    "history.import.done": (
        "Your Sent folder has been read: {n} {n|message|messages} ({imported} new). New "
        "sent mail is added as you go."),
    "history.rewrap.current": "Recipient history key: already under the current key.",
    "history.rewrap.rewrapped": "Recipient history key: re-wrapped under the current key.",
    "history.rewrap.changed": "Recipient history key: changed meanwhile, left as it is.",
    "history.rewrap.failed": (
        "the recipient history's key does not open with the configured keys; keep the old "
        "master key, or the whole history becomes unreadable"),
}

JA: dict[str, str] = {
    "finding.first_time_recipient": "{address} へ送信するのは初めてです。",
    "finding.new_domain_in_reply": (
        "この返信で {domain} が加わりました。スレッドのこれまでのメールには含まれていません。"),
    "finding.name_address_mismatch": (
        "{name} さんには {known} 宛に{n}回送信しています。今回の宛先は {address} です。"),
    "finding.similar_recipient": (
        "{name} さんには {known} 宛に{n}回送信しています。今回の宛先 {address} は"
        "一度も使ったことがありません。"),
    "finding.salutation_mismatch": (
        "宛名は「{greeting}」ですが、名前・送信履歴・ドメインのどれでも一致する宛先が"
        "ありません。{evidence}"),
    "history.salutation.org_evidence": (
        "この会社宛のメールはこれまで {domain} に送っています（{n}回）。"),
    "hint.first_time_recipient": "新しい宛先が意図した相手か確認してください。",
    "hint.new_domain_in_reply": "追加した宛先がこのやり取りに加わってよい相手か確認してください。",
    "hint.name_address_mismatch": (
        "オートコンプリートで別のアドレスが選ばれたかもしれません。いつものアドレスに置き換えてください。"),
    "hint.similar_recipient": (
        "オートコンプリートで似たアドレスが選ばれたかもしれません。いつものアドレスに置き換えてください。"),
    "hint.salutation_mismatch": "宛名と宛先が同じ相手・会社か確認してください。",
    "history.replace": "{address} に置き換える",
    "cli.history_progress": "{n}件読み込み（取り込み{imported}件、スキップ{skipped}件）",
    "cli.history_imported": "{user} の履歴に{imported}件取り込みました（スキップ{skipped}件）。",
    "cli.history_forgot": "{user} の履歴を消去しました（{n}件）。",
    "cli.history_not_mbox": "{path}: mbox ファイルではありません（先頭に「From 」行がありません）",
    "cli.history_bad_user": "--user {user}: メールアドレスではありません",
    "history.import.title": "いつもの送信先",
    "history.import.offer": (
        "送信済みフォルダからいつもの送信先を学習すると、普段と違う宛先や似たアドレスに早く"
        "気づけます。読むのは送信済みメールの差出人・宛先・日付だけで（件名・本文・添付は"
        "読みません）、バックグラウンドで行います。許可しない場合は、SendGuard で送信した"
        "メールから学習します。"),
    "history.import.allow": "送信済みのヘッダーの読み取りを許可",
    "history.import.starting": "送信済みフォルダの読み取りをバックグラウンドで始めます。",
    "history.import.progress": (
        "送信済みフォルダをバックグラウンドで読み取り中: これまでに{n}件（新規{imported}件）。"),
    "history.import.done": (
        "送信済みフォルダを読み取りました: {n}件（新規{imported}件）。新しく送信したメールも"
        "順次追加されます。"),
    "history.rewrap.current": "送信履歴の鍵: すでに現行の鍵でラップされています。",
    "history.rewrap.rewrapped": "送信履歴の鍵: 現行の鍵で再ラップしました。",
    "history.rewrap.changed": "送信履歴の鍵: 処理中に変更されたため、そのままにしました。",
    "history.rewrap.failed": (
        "送信履歴の鍵は設定中のどの鍵でも開けません。古いマスターキーを残してください"
        "（外すと送信履歴全体が読めなくなります）"),
}
