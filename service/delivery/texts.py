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
        "({zip_name}, {n} files).\n"
        "The password is not in that e-mail. To get it, open this page:\n\n"
        "  {link}\n\n"
        "On the page you can ask for a one-time code, which is sent to this address.\n"
        "The link works until {expires}. If you did not expect this e-mail, ignore it."),
    "delivery.mail.notice_body.one": (
        "{sender} has sent you an e-mail with an encrypted attachment "
        "({zip_name}, {n} file).\n"
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
        "The password of {zip_name} was retrieved by {address} on {at}.\n\n"
        "If this was not the intended person, revoke it at once: in Gmail, open SendGuard "
        "in the side panel; its home card lists your encrypted attachments. Choose "
        "\"Revoke password\" on {zip_name}: no code or password works after that. Then "
        "tell your administrator (package {package_id})."),
    "delivery.mail.separator": "----------------------------------------",
    "delivery.mail.signature": "This message was sent automatically by SendGuard.",
    # -- the key page ---------------------------------------------------------------------
    "delivery.page.lang_name": "English",
    "delivery.page.title": "Password for an encrypted attachment",
    "delivery.page.intro": (
        "{sender} sent you an encrypted attachment: {zip_name} ({n} files)."),
    "delivery.page.intro.one": (
        "{sender} sent you an encrypted attachment: {zip_name} ({n} file)."),
    "delivery.page.request_help": (
        "To see its password, ask for a one-time code. It is sent by e-mail to {address}."),
    "delivery.page.request_button": "Send me a code",
    "delivery.page.code_sent": (
        "A code was sent to {address} at {sent_at}. It works until {until}; a new code "
        "replaces it."),
    "delivery.page.code_label": "One-time code (8 digits)",
    "delivery.page.reveal_button": "Show the password",
    "delivery.page.resend_button": "Send a new code",
    "delivery.page.password_title": "The password",
    "delivery.page.password_help": "Use it to open {zip_name}.",
    "delivery.page.password_until": (
        "This page shows the password until {until}, also after a reload or a change of "
        "language. After that, a new code is needed."),
    "delivery.page.copy": "Copy",
    "delivery.page.copied": "Copied",
    "delivery.page.msg.wrong": (
        "That code is not right. You can try {n} more times with this code."),
    "delivery.page.msg.wrong.one": (
        "That code is not right. You can try once more with this code."),
    "delivery.page.msg.exhausted": (
        "That code was entered wrongly too many times and no longer works. Ask for a new "
        "code below."),
    "delivery.page.msg.stale": (
        "That code has expired or was replaced by a newer one. Ask for a new code below."),
    "delivery.page.msg.malformed": (
        "A code has 8 digits. Check the mail with the code and type it again."),
    "delivery.page.msg.rate_limited": (
        "Several codes were asked for just now. Wait {minutes} minutes, then ask again. "
        "The last code still works if you have it."),
    "delivery.page.msg.again": (
        "The page was out of date, so nothing was done. Please try again."),
    "delivery.page.ended.invalid.title": "This link does not work",
    "delivery.page.ended.invalid.body": (
        "Check that you opened the whole link from the notice mail; a link cut off at a "
        "line break does not work. If it still does not, ask the sender to send the "
        "password again."),
    "delivery.page.ended.revoked.title": "The sender withdrew this password",
    "delivery.page.ended.revoked.body": (
        "{sender} withdrew the password of {zip_name}, so it can no longer be shown. If "
        "you still need the file, ask {sender} to send it again."),
    "delivery.page.ended.expired.title": "This link has expired",
    "delivery.page.ended.expired.body": (
        "The password of {zip_name} could be shown until {expires}. If you still need "
        "the file, ask {sender} to send you a new notice."),
    "delivery.page.ended.used_up.title": "The password was shown as often as allowed",
    "delivery.page.ended.used_up.body": (
        "The password of {zip_name} was shown {limit} times, the most {sender} allowed. "
        "If you did not keep it, ask {sender} to send you a new notice."),
    "delivery.page.ended.locked.title": "This link is locked",
    "delivery.page.ended.locked.body": (
        "Too many wrong codes were entered, so for your safety this link no longer "
        "shows the password of {zip_name}. Ask {sender} to send you a new notice."),
    "delivery.page.ended.codes_used_up.title": "No more codes for this link",
    "delivery.page.ended.codes_used_up.body": (
        "All the codes this link may send were sent, so it no longer shows the password "
        "of {zip_name}. Ask {sender} to send you a new notice."),
    "delivery.page.ended.held.title": "The password is not available yet",
    "delivery.page.ended.held.body": (
        "{sender} has not released the password of {zip_name} yet. Try this link again "
        "later, or ask {sender}."),
    "delivery.page.unavailable_title": "Please try again later",
    "delivery.page.unavailable_body": (
        "The code could not be sent just now. Wait a few minutes and try again."),
    "delivery.page.back": "Back to the start of this page",
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
        "  archive:      {zip_name} (files: {count})\n"
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
    "delivery.cli.released": "Package {package_id} is released: {n} notices sent.",
    "delivery.cli.released.one": "Package {package_id} is released: {n} notice sent.",
    "delivery.cli.worker_tick": (
        "released {released}, notices sent {sent}, failed {failed}, expired {expired}"),
    "delivery.cli.worker_start": "worker: releasing due keys every {interval} s (Ctrl-C stops)",
    "delivery.cli.worker_purged": "erased the keys of {n} packages that ended long ago",
    "delivery.cli.worker_purged.one": "erased the key of {n} package that ended long ago",
    "delivery.cli.show_purged": "  key erased:   {at} (retention; the record is kept)",
    "delivery.cli.purge_dry_run": (
        "{n} packages ended more than {older_than} ago; their keys would be erased "
        "(dry run: nothing changed)."),
    "delivery.cli.purge_dry_run.one": (
        "{n} package ended more than {older_than} ago; its key would be erased "
        "(dry run: nothing changed)."),
    "delivery.cli.purged": (
        "Erased the keys of {n} packages that ended more than {older_than} ago; the "
        "records and the audit log are kept."),
    "delivery.cli.purged.one": (
        "Erased the key of {n} package that ended more than {older_than} ago; the "
        "record and the audit log are kept."),
    "delivery.cli.rewrap_progress": (
        "rewrap: {seen}/{total} checked, {rewrapped} re-wrapped, {current} already "
        "current, {failed} failed"),
    "delivery.cli.rewrap_done": (
        "Keys re-wrapped under {target}: {rewrapped} of {total}; already current: "
        "{current}, changed meanwhile: {changed}, failed: {failed}."),
    "delivery.cli.rewrap_dry_run": (
        "Keys that would be re-wrapped under {target}: {rewrapped} of {total}; already "
        "current: {current}, do not open: {failed} (dry run: nothing changed)."),
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
        "（{zip_name}、ファイル{n}件）。\n"
        "パスワードはそのメールには書かれていません。次のページで受け取ってください:\n\n"
        "  {link}\n\n"
        "ページで確認コードを申し込むと、このアドレスにコードが届きます。\n"
        "リンクの有効期限: {expires}。心当たりがない場合は、このメールを無視してください。"),
    "delivery.mail.notice_body.one": (
        "{sender} さんから、暗号化された添付ファイル付きのメールが届いています"
        "（{zip_name}、ファイル{n}件）。\n"
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
        "{zip_name} のパスワードが、{at} に {address} によって受け取られました。\n\n"
        "意図した相手でない場合は、すぐに取り消してください: Gmail のサイドパネルで "
        "SendGuard を開くと、ホームカードに暗号化した添付ファイルの一覧があります。"
        "{zip_name} の「パスワードを取り消す」を選ぶと、以後コードもパスワードも使えません。"
        "そのうえで管理者に連絡してください（パッケージ {package_id}）。"),
    "delivery.mail.separator": "----------------------------------------",
    "delivery.mail.signature": "このメールは SendGuard から自動送信されています。",
    "delivery.page.lang_name": "日本語",
    "delivery.page.title": "暗号化された添付ファイルのパスワード",
    "delivery.page.intro": (
        "{sender} さんから暗号化された添付ファイルが送られています: {zip_name}"
        "（ファイル{n}件）。"),
    "delivery.page.intro.one": (
        "{sender} さんから暗号化された添付ファイルが送られています: {zip_name}"
        "（ファイル{n}件）。"),
    "delivery.page.request_help": (
        "パスワードを表示するには、確認コードを申し込んでください。コードは {address} に"
        "メールで送られます。"),
    "delivery.page.request_button": "確認コードを送る",
    "delivery.page.code_sent": (
        "{sent_at} に {address} へ確認コードを送りました。{until} まで有効です。"
        "新しいコードを申し込むと、このコードは使えなくなります。"),
    "delivery.page.code_label": "確認コード（8桁）",
    "delivery.page.reveal_button": "パスワードを表示",
    "delivery.page.resend_button": "新しいコードを送る",
    "delivery.page.password_title": "パスワード",
    "delivery.page.password_help": "{zip_name} を開くときに使います。",
    "delivery.page.password_until": (
        "このページは {until} まで、再読み込みや言語の切り替えをしてもパスワードを表示します。"
        "それ以降は新しい確認コードが必要です。"),
    "delivery.page.copy": "コピー",
    "delivery.page.copied": "コピーしました",
    "delivery.page.msg.wrong": (
        "確認コードが正しくありません。このコードはあと{n}回入力できます。"),
    "delivery.page.msg.wrong.one": (
        "確認コードが正しくありません。このコードはあと1回だけ入力できます。"),
    "delivery.page.msg.exhausted": (
        "このコードは入力の誤りが多すぎたため、使えなくなりました。下のボタンで新しい"
        "コードを申し込んでください。"),
    "delivery.page.msg.stale": (
        "このコードは有効期限が切れたか、新しいコードに置き換えられました。下のボタンで"
        "新しいコードを申し込んでください。"),
    "delivery.page.msg.malformed": (
        "確認コードは8桁の数字です。コードのメールを確認して、もう一度入力してください。"),
    "delivery.page.msg.rate_limited": (
        "短い間に何度もコードが申し込まれました。{minutes}分待ってから、もう一度申し込んで"
        "ください。お手元の最新のコードは引き続き使えます。"),
    "delivery.page.msg.again": (
        "ページの情報が古かったため、何も行っていません。もう一度お試しください。"),
    "delivery.page.ended.invalid.title": "このリンクは使えません",
    "delivery.page.ended.invalid.body": (
        "案内メールのリンクを最後まで開いたか確認してください（改行で途切れたリンクは"
        "使えません）。それでも使えない場合は、送信者にパスワードの再送を依頼してください。"),
    "delivery.page.ended.revoked.title": "送信者がこのパスワードを取り消しました",
    "delivery.page.ended.revoked.body": (
        "{sender} さんが {zip_name} のパスワードを取り消したため、表示できません。"
        "ファイルが必要な場合は、{sender} さんに再送を依頼してください。"),
    "delivery.page.ended.expired.title": "このリンクは有効期限が切れています",
    "delivery.page.ended.expired.body": (
        "{zip_name} のパスワードを表示できたのは {expires} までです。ファイルが必要な"
        "場合は、{sender} さんに新しい案内を依頼してください。"),
    "delivery.page.ended.used_up.title": "パスワードの表示回数が上限に達しました",
    "delivery.page.ended.used_up.body": (
        "{zip_name} のパスワードは、{sender} さんが許可した上限の{limit}回表示されました。"
        "控えていない場合は、{sender} さんに新しい案内を依頼してください。"),
    "delivery.page.ended.locked.title": "このリンクはロックされました",
    "delivery.page.ended.locked.body": (
        "誤った確認コードが何度も入力されたため、安全のためこのリンクでは {zip_name} の"
        "パスワードを表示できなくなりました。{sender} さんに新しい案内を依頼してください。"),
    "delivery.page.ended.codes_used_up.title": "このリンクではこれ以上コードを送れません",
    "delivery.page.ended.codes_used_up.body": (
        "このリンクで送れる確認コードをすべて送ったため、{zip_name} のパスワードは表示"
        "できなくなりました。{sender} さんに新しい案内を依頼してください。"),
    "delivery.page.ended.held.title": "パスワードはまだ受け取れません",
    "delivery.page.ended.held.body": (
        "{sender} さんは {zip_name} のパスワードをまだ送っていません。しばらくしてから"
        "このリンクをもう一度開くか、{sender} さんに問い合わせてください。"),
    "delivery.page.unavailable_title": "しばらくしてからもう一度お試しください",
    "delivery.page.unavailable_body": (
        "現在、確認コードを送れませんでした。数分待ってから、もう一度お試しください。"),
    "delivery.page.back": "このページの最初に戻る",
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
        "  アーカイブ:   {zip_name}（ファイル{count}件）\n"
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
    "delivery.cli.released": "パッケージ {package_id} を解放しました。案内メール {n}件を送信。",
    "delivery.cli.released.one": "パッケージ {package_id} を解放しました。案内メール {n}件を送信。",
    "delivery.cli.worker_tick": (
        "解放 {released}件、案内送信 {sent}件、送信失敗 {failed}件、期限切れ {expired}件"),
    "delivery.cli.worker_start": (
        "worker: {interval}秒ごとに期限の来た鍵を解放します（Ctrl-C で停止）"),
    "delivery.cli.worker_purged": "終了から保存期間を過ぎたパッケージ {n}件の鍵を消去しました",
    "delivery.cli.worker_purged.one": "終了から保存期間を過ぎたパッケージ {n}件の鍵を消去しました",
    "delivery.cli.show_purged": "  鍵の消去:     {at}（保存期間の経過。記録は残ります）",
    "delivery.cli.purge_dry_run": (
        "終了から {older_than} を過ぎたパッケージが {n}件あります。これらの鍵が消去されます"
        "（ドライラン: 何も変更していません）。"),
    "delivery.cli.purge_dry_run.one": (
        "終了から {older_than} を過ぎたパッケージが {n}件あります。この鍵が消去されます"
        "（ドライラン: 何も変更していません）。"),
    "delivery.cli.purged": (
        "終了から {older_than} を過ぎたパッケージ {n}件の鍵を消去しました。記録と監査ログは"
        "残ります。"),
    "delivery.cli.purged.one": (
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

# Link mode (SPEC 10.3): the page lists files for download instead of a password.
EN.update({
    "delivery.mail.link_notice_subject": "[SendGuard] Files for you to download",
    "delivery.mail.link_notice_body": (
        "{sender} has sent you an e-mail whose {n} attached files are kept for you, "
        "encrypted, instead of travelling with it. To download them, open this page:\n\n"
        "  {link}\n\n"
        "On the page you can ask for a one-time code, which is sent to this address.\n"
        "The link works until {expires}. If you did not expect this e-mail, ignore it."),
    "delivery.mail.link_notice_body.one": (
        "{sender} has sent you an e-mail whose {n} attached file is kept for you, "
        "encrypted, instead of travelling with it. To download it, open this page:\n\n"
        "  {link}\n\n"
        "On the page you can ask for a one-time code, which is sent to this address.\n"
        "The link works until {expires}. If you did not expect this e-mail, ignore it."),
    "delivery.page.link_intro": "{sender} sent you files to download ({n} files).",
    "delivery.page.link_intro.one": "{sender} sent you a file to download ({n} file).",
    "delivery.page.link_title": "Encrypted files for you",
    "delivery.page.files_title": "Your files",
    "delivery.page.files_help": (
        "Download each file below. The links work in this browser until {until}; after "
        "that, ask for a new code on this page."),
    "delivery.page.files_size": "{size}",
    "delivery.page.ended.files_revoked.title": "The sender withdrew these files",
    "delivery.page.ended.files_revoked.body": (
        "{sender} withdrew the files, so they can no longer be downloaded and have been "
        "erased. If you still need them, ask {sender} to send them again."),
    "delivery.page.ended.files_expired.title": "These files have expired",
    "delivery.page.ended.files_expired.body": (
        "The files could be downloaded until {expires} and have been erased. If you still "
        "need them, ask {sender} to send them again."),
    "delivery.page.ended.session.title": "Enter a code first",
    "delivery.page.ended.session.body": (
        "Open the link from your notice and enter a one-time code to download the files."),
    "delivery.mail.downloaded_subject": "[SendGuard] Your files were downloaded",
    "delivery.mail.downloaded_body": (
        "{name} was downloaded by {address} on {at}.\n\n"
        "If this was not the intended person, recall the files at once: in Gmail, open "
        "SendGuard in the side panel and choose \"Revoke\" on this package (or ask your "
        "administrator: package {package_id}). The files are erased at once."),
})
JA.update({
    "delivery.mail.link_notice_subject": "[SendGuard] ダウンロード用のファイルのお知らせ",
    "delivery.mail.link_notice_body": (
        "{sender} さんから届いたメールの添付ファイル（{n}件）は、メールには含まれず、"
        "暗号化して保管されています。次のページからダウンロードしてください:\n\n"
        "  {link}\n\n"
        "ページで確認コードを申し込むと、このアドレスにコードが届きます。\n"
        "リンクの有効期限: {expires}。心当たりがない場合は、このメールを無視してください。"),
    "delivery.mail.link_notice_body.one": (
        "{sender} さんから届いたメールの添付ファイル（{n}件）は、メールには含まれず、"
        "暗号化して保管されています。次のページからダウンロードしてください:\n\n"
        "  {link}\n\n"
        "ページで確認コードを申し込むと、このアドレスにコードが届きます。\n"
        "リンクの有効期限: {expires}。心当たりがない場合は、このメールを無視してください。"),
    "delivery.page.link_intro": (
        "{sender} さんからダウンロード用のファイルが届いています（{n}件）。"),
    "delivery.page.link_intro.one": (
        "{sender} さんからダウンロード用のファイルが届いています（{n}件）。"),
    "delivery.page.link_title": "暗号化されたファイルのお受け取り",
    "delivery.page.files_title": "ファイル",
    "delivery.page.files_help": (
        "下のファイルをダウンロードしてください。このブラウザで {until} までダウンロード"
        "できます。その後は、このページで新しい確認コードを申し込んでください。"),
    "delivery.page.files_size": "{size}",
    "delivery.page.ended.files_revoked.title": "送信者がファイルを取り消しました",
    "delivery.page.ended.files_revoked.body": (
        "{sender} さんがファイルを取り消したため、ダウンロードできません。ファイルは削除"
        "されました。必要な場合は {sender} さんに再送を依頼してください。"),
    "delivery.page.ended.files_expired.title": "ファイルの有効期限が切れました",
    "delivery.page.ended.files_expired.body": (
        "ファイルは {expires} までダウンロードでき、その後削除されました。必要な場合は "
        "{sender} さんに再送を依頼してください。"),
    "delivery.page.ended.session.title": "先に確認コードを入力してください",
    "delivery.page.ended.session.body": (
        "通知メールのリンクを開き、確認コードを入力してからダウンロードしてください。"),
    "delivery.mail.downloaded_subject": "[SendGuard] ファイルがダウンロードされました",
    "delivery.mail.downloaded_body": (
        "{name} が、{at} に {address} によってダウンロードされました。\n\n"
        "意図した相手でない場合は、すぐに取り消してください: Gmail のサイドパネルで "
        "SendGuard を開き、このパッケージの「取り消す」を選ぶと（または管理者に"
        "パッケージ {package_id} を伝えると）、ファイルはすぐに削除されます。"),
})
