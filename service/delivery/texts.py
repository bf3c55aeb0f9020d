"""Texts of key delivery in English and Japanese: mails, the key page, ``keys``/``worker``.

Mail subjects are fixed here and never take user input; mails carry both languages since
the recipient's is unknown. ``service.i18n`` merges ``EN`` and ``JA`` (same keys, same
fields, checked by ``tests/test_i18n.py``).
"""

from __future__ import annotations

EN: dict[str, str] = {
    # -- mails (the body is built from both catalogs) -----------------------------------
    "delivery.mail.notice_subject": "[SendGuard] Password for an encrypted attachment",
    "delivery.mail.notice_body": (
        "{sender} has sent you an e-mail with an encrypted attachment "
        "({zip_name}, {count} file(s)).\n"
        "The password is not in that e-mail. To get it, open this page:\n\n"
        "  {link}\n\n"
        "On the page you can ask for a one-time code, which is sent to this address.\n"
        "The link works until {expires}. If you did not expect this e-mail, ignore it."),
    "delivery.mail.code_subject": "[SendGuard] Your one-time code",
    "delivery.mail.code_body": (
        "Your one-time code: {code}\n\n"
        "Enter it on the SendGuard page within {minutes} minutes. A new request makes "
        "this code invalid.\nIf you did not ask for a code, ignore this e-mail."),
    "delivery.mail.retrieved_subject": "[SendGuard] Your attachment password was retrieved",
    "delivery.mail.retrieved_body": (
        "The password of {zip_name} ({count} file(s)), package {package_id}, was retrieved "
        "by {address} at {at}.\n"
        "If this was not the intended person, revoke the key at once (add-on, or "
        "'sendguard keys revoke {package_id}') and tell your administrator."),
    "delivery.mail.separator": "----------------------------------------",
    "delivery.mail.signature": "This message was sent automatically by SendGuard.",
    # -- the key page ---------------------------------------------------------------------
    "delivery.page.lang_name": "English",
    "delivery.page.title": "Password for an encrypted attachment",
    "delivery.page.intro": (
        "{sender} sent you an encrypted attachment: {zip_name} ({count} file(s))."),
    "delivery.page.request_help": (
        "To see its password, ask for a one-time code. It is sent by e-mail to {address}."),
    "delivery.page.request_button": "Send me a code",
    "delivery.page.code_sent": (
        "A code was sent to {address}. It is valid for {minutes} minutes."),
    "delivery.page.have_code": "Already have a code? Enter it here.",
    "delivery.page.code_label": "One-time code (8 digits)",
    "delivery.page.reveal_button": "Show the password",
    "delivery.page.resend_button": "Send a new code",
    "delivery.page.password_title": "The password",
    "delivery.page.password_help": (
        "Use it to open {zip_name}. Copy it now: this page is not stored, and the "
        "password can be shown only a limited number of times."),
    "delivery.page.copy": "Copy",
    "delivery.page.copied": "Copied",
    "delivery.page.error_title": "This link or code cannot be used",
    "delivery.page.error_body": (
        "The link or code is not valid, has expired, was withdrawn by the sender, or was "
        "tried too many times. Ask the sender for help if you still need the file."),
    "delivery.page.unavailable_title": "Please try again later",
    "delivery.page.unavailable_body": (
        "The code could not be sent just now. Wait a few minutes and try again."),
    "delivery.page.footer": "SendGuard protects e-mail attachments sent to you.",
    # -- command line ---------------------------------------------------------------------
    "delivery.cli.same_file": "the output file must not be the input file: {path}",
    "delivery.cli.not_recipient": (
        "{address} is not a recipient of the message; the key can only go to a recipient"),
    "delivery.cli.no_message_id": (
        "the message has no Message-ID, so the key waits: run 'sendguard keys release "
        "{package_id}' after sending it"),
    "delivery.cli.cannot_write": "{path}: cannot write: {reason}",
    "delivery.cli.list_header": "PACKAGE                 STATE             CREATED (UTC)     "
                                "REVEALED  SENDER",
    "delivery.cli.list_empty": "No packages.",
    "delivery.cli.show": (
        "Package {package_id}\n"
        "  state:        {state} (release: {mode})\n"
        "  sender:       {sender}\n"
        "  recipients:   {recipients}\n"
        "  archive:      {zip_name} ({count} file(s))\n"
        "  created:      {created}\n"
        "  release at:   {release_at}\n"
        "  released:     {released_at}\n"
        "  expires:      {expires}\n"
        "  revealed:     {reveals} of {limit}"),
    "delivery.cli.show_grant": "  key to:       {address} (notice {notice}, revealed {reveals}x)",
    "delivery.cli.notice_sent": "sent {at}",
    "delivery.cli.notice_pending": "not sent",
    "delivery.cli.none": "-",
    "delivery.cli.revoked": "Package {package_id} is revoked: no code or password works now.",
    "delivery.cli.released": "Package {package_id} is released: {sent} notice(s) sent.",
    "delivery.cli.worker_tick": (
        "released {released}, notices sent {sent}, failed {failed}, expired {expired}"),
    "delivery.cli.worker_start": "worker: releasing due keys every {interval} s (Ctrl-C stops)",
    "delivery.cli.worker_purged": "erased the keys of {n} package(s) that ended long ago",
    "delivery.cli.show_purged": "  key erased:   {at} (retention; the record is kept)",
    "delivery.cli.purge_dry_run": (
        "{n} package(s) ended more than {older_than} ago; their keys would be erased "
        "(dry run: nothing changed)."),
    "delivery.cli.purged": (
        "Erased the keys of {n} package(s) that ended more than {older_than} ago; the "
        "records and the audit log are kept."),
    "delivery.cli.rewrap_progress": (
        "rewrap: {seen}/{total} checked, {rewrapped} re-wrapped, {current} already "
        "current, {failed} failed"),
    "delivery.cli.rewrap_done": (
        "Re-wrapped {rewrapped} of {total} key(s) under {target}; {current} were already "
        "current, {changed} changed meanwhile, {failed} failed."),
    "delivery.cli.rewrap_dry_run": (
        "{rewrapped} of {total} key(s) would be re-wrapped under {target}; {current} are "
        "already current, {failed} do not open (dry run: nothing changed)."),
    "delivery.cli.rewrap_failed": (
        "the keys of these packages do not open with the configured keys; keep the old "
        "master key until they have expired: {ids}"),
    # -- errors raised by this package ---------------------------------------------------
    "delivery.error.no_key_recipient": "choose at least one recipient to receive the key",
    "delivery.error.not_recipient": (
        "{address} is not a recipient of this message; the key can only go to a recipient"),
    "delivery.error.send_failed": "the message was not sent; nothing left and the key is withdrawn",
}

JA: dict[str, str] = {
    "delivery.mail.notice_subject": "[SendGuard] 暗号化された添付ファイルのパスワード",
    "delivery.mail.notice_body": (
        "{sender} さんから、暗号化された添付ファイル付きのメールが届いています"
        "（{zip_name}、{count}件のファイル）。\n"
        "パスワードはそのメールには書かれていません。次のページで受け取ってください:\n\n"
        "  {link}\n\n"
        "ページで確認コードを申し込むと、このアドレスにコードが届きます。\n"
        "リンクの有効期限: {expires}。心当たりがない場合は、このメールを無視してください。"),
    "delivery.mail.code_subject": "[SendGuard] 確認コード",
    "delivery.mail.code_body": (
        "確認コード: {code}\n\n"
        "{minutes}分以内に SendGuard のページで入力してください。"
        "新しいコードを申し込むと、このコードは使えなくなります。\n"
        "申し込んだ覚えがない場合は、このメールを無視してください。"),
    "delivery.mail.retrieved_subject": "[SendGuard] 添付ファイルのパスワードが受け取られました",
    "delivery.mail.retrieved_body": (
        "{zip_name}（{count}件のファイル、パッケージ {package_id}）のパスワードが、"
        "{at} に {address} によって受け取られました。\n"
        "意図した相手でない場合は、すぐに鍵を取り消し（アドオン、または "
        "'sendguard keys revoke {package_id}'）、管理者に連絡してください。"),
    "delivery.mail.separator": "----------------------------------------",
    "delivery.mail.signature": "このメールは SendGuard から自動送信されています。",
    "delivery.page.lang_name": "日本語",
    "delivery.page.title": "暗号化された添付ファイルのパスワード",
    "delivery.page.intro": (
        "{sender} さんから暗号化された添付ファイルが送られています: {zip_name}"
        "（{count}件のファイル）。"),
    "delivery.page.request_help": (
        "パスワードを表示するには、確認コードを申し込んでください。コードは {address} に"
        "メールで送られます。"),
    "delivery.page.request_button": "確認コードを送る",
    "delivery.page.code_sent": "{address} に確認コードを送りました。有効期間は{minutes}分です。",
    "delivery.page.have_code": "確認コードをお持ちの場合は、ここに入力してください。",
    "delivery.page.code_label": "確認コード（8桁）",
    "delivery.page.reveal_button": "パスワードを表示",
    "delivery.page.resend_button": "新しいコードを送る",
    "delivery.page.password_title": "パスワード",
    "delivery.page.password_help": (
        "{zip_name} を開くときに使います。今すぐコピーしてください。"
        "このページは保存されず、表示できる回数には上限があります。"),
    "delivery.page.copy": "コピー",
    "delivery.page.copied": "コピーしました",
    "delivery.page.error_title": "このリンクまたはコードは使えません",
    "delivery.page.error_body": (
        "リンクまたはコードが正しくないか、有効期限が切れたか、送信者が取り消したか、"
        "試行回数の上限に達しました。ファイルが必要な場合は送信者に問い合わせてください。"),
    "delivery.page.unavailable_title": "しばらくしてからもう一度お試しください",
    "delivery.page.unavailable_body": (
        "現在、確認コードを送れませんでした。数分待ってから、もう一度お試しください。"),
    "delivery.page.footer": "SendGuard は、あなたに送られたメールの添付ファイルを保護しています。",
    "delivery.cli.same_file": "出力ファイルに入力ファイルは指定できません: {path}",
    "delivery.cli.not_recipient": (
        "{address} はこのメッセージの宛先ではありません。鍵は宛先にしか送れません"),
    "delivery.cli.no_message_id": (
        "メッセージに Message-ID がないため、鍵は保留されます。送信後に 'sendguard keys "
        "release {package_id}' を実行してください"),
    "delivery.cli.cannot_write": "{path}: 書き込めません: {reason}",
    "delivery.cli.list_header": "パッケージ              状態              作成日時 (UTC)    "
                                "表示回数  送信者",
    "delivery.cli.list_empty": "パッケージはありません。",
    "delivery.cli.show": (
        "パッケージ {package_id}\n"
        "  状態:         {state}（解放方式: {mode}）\n"
        "  送信者:       {sender}\n"
        "  宛先:         {recipients}\n"
        "  アーカイブ:   {zip_name}（{count}件のファイル）\n"
        "  作成:         {created}\n"
        "  解放予定:     {release_at}\n"
        "  解放:         {released_at}\n"
        "  有効期限:     {expires}\n"
        "  表示回数:     {reveals} / {limit}"),
    "delivery.cli.show_grant": "  鍵の送付先:   {address}（案内 {notice}、表示 {reveals}回）",
    "delivery.cli.notice_sent": "{at} 送信済み",
    "delivery.cli.notice_pending": "未送信",
    "delivery.cli.none": "-",
    "delivery.cli.revoked": (
        "パッケージ {package_id} を取り消しました。確認コードもパスワードも使えなくなりました。"),
    "delivery.cli.released": "パッケージ {package_id} を解放しました。案内メール {sent}件を送信。",
    "delivery.cli.worker_tick": (
        "解放 {released}件、案内送信 {sent}件、送信失敗 {failed}件、期限切れ {expired}件"),
    "delivery.cli.worker_start": (
        "worker: {interval}秒ごとに期限の来た鍵を解放します（Ctrl-C で停止）"),
    "delivery.cli.worker_purged": "終了から保存期間を過ぎたパッケージ {n}件の鍵を消去しました",
    "delivery.cli.show_purged": "  鍵の消去:     {at}（保存期間の経過。記録は残ります）",
    "delivery.cli.purge_dry_run": (
        "終了から {older_than} を過ぎたパッケージが {n}件あります。これらの鍵が消去されます"
        "（ドライラン: 何も変更していません）。"),
    "delivery.cli.purged": (
        "終了から {older_than} を過ぎたパッケージ {n}件の鍵を消去しました。記録と監査ログは"
        "残ります。"),
    "delivery.cli.rewrap_progress": (
        "rewrap: {seen}/{total}件を確認、再ラップ {rewrapped}件、現行の鍵 {current}件、"
        "失敗 {failed}件"),
    "delivery.cli.rewrap_done": (
        "{total}件中 {rewrapped}件の鍵を {target} で再ラップしました。現行の鍵 {current}件、"
        "処理中に変更 {changed}件、失敗 {failed}件。"),
    "delivery.cli.rewrap_dry_run": (
        "{total}件中 {rewrapped}件の鍵が {target} で再ラップされます。現行の鍵 {current}件、"
        "開けない鍵 {failed}件（ドライラン: 何も変更していません）。"),
    "delivery.cli.rewrap_failed": (
        "次のパッケージの鍵は設定中のどの鍵でも開けません。期限が切れるまで古いマスター"
        "キーを残してください: {ids}"),
    "delivery.error.no_key_recipient": "鍵を受け取る宛先を1件以上選んでください",
    "delivery.error.not_recipient": (
        "{address} はこのメッセージの宛先ではありません。鍵は宛先にしか送れません"),
    "delivery.error.send_failed": "メッセージは送信されませんでした。鍵は取り消されています",
}
