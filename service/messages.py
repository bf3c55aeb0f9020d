"""Message catalogs: every user-facing text, in Japanese and English.

Keys are grouped by prefix: ``finding.*`` (policy findings), ``note.*`` (attachment
notes), ``cli.*``, ``card.*`` (add-on cards), ``key.*`` (key page), ``mail.*`` (notices).
"""

from __future__ import annotations

EN: dict[str, str] = {
    "list.more": " and {n} more",
    "finding.external_recipients": (
        "{n} external {n|recipient|recipients} in {d} {d|domain|domains}: {domains}."),
    "finding.many_visible_recipients": (
        "{n} external addresses are visible to each other in To/Cc (limit {limit}). "
        "Move them to Bcc."),
    "finding.cross_domain_exposure": (
        "{n} external organisations can see each other's addresses in To/Cc "
        "(limit {limit}): {orgs}."),
    "finding.personal_address_visible": (
        "Personal {n|address|addresses} {names} in To/Cc {n|is|are} visible to other "
        "external recipients."),
    "finding.many_bcc_recipients": (
        "{n} addresses in Bcc (limit {limit}). Was a template left full of addresses?"),
    "finding.invalid_address": "{field}: \"{raw}\" is not one valid address: {reason}.",
    "reason.empty": "the entry is empty",
    "reason.missing_separator": "several addresses without a comma between them",
    "reason.name_is_address": (
        "the name in front of it is another address ({shown}): the reader sees that one, "
        "but the mail goes to {target}"),
    "reason.newline": "it contains a line break",
    "reason.fullwidth_at": "it uses a full-width ＠ instead of @",
    "reason.no_domain": "there is no domain after @",
    "reason.invalid_domain": "the domain is not valid",
    "reason.syntax": "it is not an e-mail address",
    "finding.lookalike_domain": (
        "{domain} imitates {like}: it looks like it, but is a different domain."),
    "finding.caution_recipient": "{names}: the policy asks for care with this recipient.",
    "finding.blocked_keyword": (
        "\"{keyword}\" in the {place}: the policy forbids sending this."),
    "finding.missing_attachment": (
        "The {place} says a file is attached (\"{phrase}\"), but the message has no "
        "attachment."),
    "finding.password_zip_attached": (
        "{name} is {kind}. If its password follows by e-mail, anyone who gets this mail "
        "gets both (PPAP)."),
    "finding.large_attachment": (
        "Attachments total {size} (limit {limit}). Large files are better shared by link."),
    "protection.zip": "a password-protected ZIP",
    "protection.office": "a password-protected Office document",
    "protection.pdf": "a password-protected PDF",
    "hint.caution_recipient": (
        "Check that this recipient is right and that the content may go to them."),
    "hint.blocked_keyword": (
        "Remove the forbidden wording or the material, or send it another approved way."),
    "hint.missing_attachment": (
        "Attach the file you meant to send, or reword the text if nothing is attached."),
    "hint.password_zip_attached": (
        "Attach the original file instead and use SendGuard's Encrypt & send (or link "
        "mode): the key then reaches only the recipients you verify, never by this mail."),
    "hint.large_attachment": (
        "Consider SendGuard's link mode: the files are stored encrypted and each recipient "
        "gets a download link."),
    "finding.blocked_recipient": "{names}: sending to this recipient is blocked by policy.",
    "finding.missing_required_bcc": (
        "Mail to external recipients must Bcc {missing}, which is missing."),
    "finding.confidential_keyword": (
        "\"{keyword}\" in the {place} while external recipients are present."),
    "finding.personal_data": (
        "{total} personal-data items in the {place} ({kinds}) while external recipients are "
        "present."),
    "finding.unencrypted_attachment": (
        "Attachment {name} is not encrypted and goes to external recipients."),
    "finding.blocked_attachment": "Attachment {name} has a blocked file type ({ext}).",
    "place.subject": "subject",
    "place.body": "body",
    "place.attachment": "attachment {name}",
    "place.attachment_name": "attachment name {name}",
    "kind.emails": "e-mail addresses: {n}",
    "kind.phones": "phone numbers: {n}",
    "kind.my_numbers": "My Numbers: {n}",
    "kind.cards": "card numbers: {n}",
    "field.to": "To",
    "field.cc": "Cc",
    "field.bcc": "Bcc",
    "severity.block": "BLOCK",
    "severity.warn": "WARN",
    "severity.info": "INFO",
    "note.zip_bomb": "{path}: archive looks like a zip bomb; its contents were not checked.",
    "note.too_deep": "{path}: archives nested too deep; inner contents were not checked.",
    "note.too_many_entries": "{path}: too many files in the archive; the rest was not checked.",
    "note.too_large": "{path}: too large to check completely.",
    "note.corrupt": "{path}: the file is damaged and could not be read.",
    "note.encrypted_member": "{path}: encrypted, contents not checked.",
    "note.unsupported": "{path}: this file type is not checked for personal data.",
    "note.truncated": "{path}: only the first part was checked (size limit).",
    "finding.personal_data_partial": (
        "At least {total} personal-data items in the {place} ({kinds}) while external "
        "recipients are present; only part of it could be read, so there may be more."),
    "finding.incomplete_check": (
        "The {place} could not be checked completely (size, structure or time limit): "
        "what was not read may hold personal data or blocked files."),
    "place.message": "message body and structure",
    "place.recipients": "recipient list",
    "hint.incomplete_check": (
        "Check the unread part yourself, send smaller files, or use Encrypt & send."),
    "note.deadline": "{path}: the time for checking ran out; the rest was not checked.",
    "note.enough": (
        "{path}: plenty of personal data in its first part already; the rest was not read."),
    "note.mime_too_many_parts": (
        "The message has more than {path} parts; the remaining parts were not checked."),
    "note.mime_too_deep": (
        "The message nests parts more than {path} levels deep; deeper parts were not checked."),
    "note.body_truncated": "The {path} body is too long; only its first part was checked.",
    "note.header_truncated": "The {path} header is too long; only its start was read.",
    "note.too_many_recipients": (
        "{path} recipient entries: only the first ones were checked."),
    "note.bad_encoding": "{path}: damaged encoding; decoded as far as possible.",
    "note.busy": "The service is busy; the contents were not checked. Try again shortly.",
    "note.analysis_failed": (
        "The contents could not be checked within the limits (time or memory)."),
    "note.more_findings": "{n} more {code} findings are not listed.",
    "note.other": "{path}: {code}",
    "cli.no_findings": "No findings.",
    "cli.header": "SEVERITY  CODE                       WHERE        MESSAGE",
    "cli.summary": "{block} block, {warn} warn, {info} info",
    "cli.notes": "Notes:",
    "cli.error": "sendguard: error: {message}",
    "cli.not_a_message": "{path}: not an e-mail message",
    "cli.unreadable": "{path}: cannot read: {reason}",
    "cli.protect_done": "Wrote {out}: {n} attachments in {zip} (package {package_id}).",
    "cli.protect_done.one": "Wrote {out}: {n} attachment in {zip} (package {package_id}).",
    "cli.protect_link_done": ("Wrote {out}: {n} attachments stored encrypted for download "
                              "by link (package {package_id})."),
    "cli.protect_link_done.one": ("Wrote {out}: {n} attachment stored encrypted for download "
                                  "by link (package {package_id})."),
    "cli.protect_password": "Password: {password}",
    "cli.a_file": "a file",
    "cli.file_error": "{path}: {reason}",
    "cli.no_package": "no package {package_id} (see 'sendguard keys list')",
    "cli.usage_error": "{message} (see '{command} --help')",
    "cli.arg_required": "missing: {a1}",
    "cli.unrecognized": "unrecognized arguments: {args}",
    "cli.arg_choice": "{a1}: {a2} is not one of {a3}",
    "cli.arg_expected": "{a1} needs a value",
    "cli.arg_invalid": "{a1}: not a valid value: {a2}",
    "cli.arg_conflict": "{a1} cannot be used with {a2}",
    "cli.database_unreachable": "database {url} cannot be reached: {reason}",
    "cli.database_failed": "database {url} failed: {reason}",
    "cli.protect_nobody": (
        "nobody would receive the password: give --key-to ADDRESS (a recipient of the "
        "message) or --reveal-password"),
    "cli.protect_too_large": (
        "{path}: {mb:.1f} MB is more than the {limit_mb:.0f} MB a message may have; "
        "nothing was encrypted"),
    "cli.policy_broken": "the service does not start on a policy it cannot read: {message}",
    "cli.no_devtools": (
        "sendguard dev is a development tool and this installation has none "
        "(the production image ships without them): run it from a source checkout (make run)"
    ),
    # policy file errors (service.policy.policyfile): key names and values stay verbatim
    "policy.not_found": "policy file not found",
    "policy.is_directory": "the policy file is a directory",
    "policy.not_utf8": "cannot read policy file: not UTF-8 text (byte {offset})",
    "policy.unreadable": "cannot read policy file: {reason}",
    "policy.invalid_toml": "invalid TOML: {reason}",
    "policy.unknown_section": "unknown section [{section}] (known: {known})",
    "policy.not_table": "'{section}' must be a table [{section}]",
    "policy.unknown_key": "unknown key '{key}' (known in [{section}]: {known})",
    "policy.bad_value": "'{key}': {reason}",
    "value.whole_number": "must be a whole number, not {type}",
    "value.negative": "must not be negative",
    "value.bool": "must be true or false, not {type}",
    "value.duration": "must be seconds or a duration like \"30s\", \"5m\", \"1h\", \"7d\"",
    "value.deadline": (
        "must be between 1 second and {max} seconds (analysis always ends within a "
        "deadline)"),
    "value.size": "must be a size like \"10MB\", \"500KB\" or a number of bytes",
    "value.one_of": "must be one of {choices}",
    "value.strings": "must be a list of strings, not {type}",
    "value.empty_string": "must not contain empty strings",
    "value.domain": "'{value}' is not a valid domain",
    "value.time_zone": "must be an IANA time zone name such as \"Asia/Tokyo\"",
    "value.unknown_time_zone": "'{value}' is not a known IANA time zone (e.g. \"Asia/Tokyo\")",
    "type.string": "a string",
    "type.number": "a number",
    "type.bool": "true/false",
    "type.list": "a list",
    "type.table": "a table",
    "pattern.not_text": "'{entry}' is not text",
    "pattern.empty": "'{entry}' is empty",
    "pattern.excepts_nothing": "'{entry}' excepts nothing",
    "pattern.blanks": "'{entry}' contains blanks or control characters",
    "pattern.two_at": "'{entry}' has more than one @",
    "pattern.no_domain": "'{entry}' has no domain after @",
    "pattern.bad_local": "'{entry}' has characters no address can contain",
    "pattern.bad_domain": "'{entry}' has a domain that cannot exist",
    "pattern.names_no_domain": "'{entry}' names no domain",
    "pattern.invalid_domain": "'{entry}' is not a valid domain",
    "pattern.no_domain_match": "'{entry}' is not a domain pattern that any domain could match",
    "message.too_large": "message too large ({mb} MB)",
    "message.header_too_large": "header section too large",
    "message.binary_header": "not an e-mail message (binary data in the header)",
    "message.no_headers": "not an e-mail message (no message headers)",
    # other command-line input errors
    "cli.no_such_file": "{path}: no such file",
    "cli.is_directory": "{path}: is a directory",
    "cli.limit_positive": "--limit must be at least 1",
    "cli.since_until": "--since must be before --until",
    "cli.interval_positive": "--interval must be more than 0 seconds",
    "cli.no_tables": "the database {url} has no SendGuard tables: run 'sendguard db upgrade'",
}

JA: dict[str, str] = {
    "list.more": " ほか{n}件",
    "finding.external_recipients": "社外の宛先が{n}件（{d}ドメイン）あります: {domains}。",
    "finding.many_visible_recipients": (
        "To/Ccで社外のアドレス{n}件が互いに見えます（上限{limit}件）。Bccに移してください。"),
    "finding.cross_domain_exposure": (
        "To/Ccで社外の{n}組織が互いのアドレスを見られます（上限{limit}）: {orgs}。"),
    "finding.personal_address_visible": (
        "To/Ccの個人アドレス {names} が他の社外の宛先に見えます。"),
    "finding.many_bcc_recipients": (
        "Bccに{n}件のアドレスがあります（上限{limit}件）。テンプレートの宛先が残っていませんか。"),
    "finding.invalid_address": "{field}: 「{raw}」は1件の正しいアドレスではありません: {reason}。",
    "reason.empty": "空の宛先です",
    "reason.missing_separator": "複数のアドレスの間にカンマがありません",
    "reason.name_is_address": (
        "前に書かれた名前が別のアドレス（{shown}）です。読む人にはそちらが見えますが、"
        "メールは {target} に届きます"),
    "reason.newline": "改行が含まれています",
    "reason.fullwidth_at": "@ が全角の「＠」です",
    "reason.no_domain": "@ の後にドメインがありません",
    "reason.invalid_domain": "ドメインが正しくありません",
    "reason.syntax": "メールアドレスの形式ではありません",
    "finding.lookalike_domain": "{domain} は {like} に似せたドメインです（別のドメインです）。",
    "finding.caution_recipient": "{names}: ポリシーで注意が必要とされている宛先です。",
    "finding.blocked_keyword": (
        "{place}に「{keyword}」が含まれています。ポリシーで送信が禁止されています。"),
    "finding.missing_attachment": (
        "{place}に添付の記載（「{phrase}」）がありますが、添付ファイルがありません。"),
    "finding.password_zip_attached": (
        "{name} は{kind}です。パスワードを後からメールで送ると、このメールを受け取った人は"
        "両方を手にします（PPAP）。"),
    "finding.large_attachment": (
        "添付ファイルの合計が{size}です（上限{limit}）。大きなファイルはリンクで共有するほうが安全です。"),
    "protection.zip": "パスワード付きZIP",
    "protection.office": "パスワード付きのOffice文書",
    "protection.pdf": "パスワード付きのPDF",
    "hint.caution_recipient": "宛先が正しいか、この内容を送ってよい相手か確認してください。",
    "hint.blocked_keyword": "禁止された語句や資料を外すか、認められた別の方法で送ってください。",
    "hint.missing_attachment": (
        "送るつもりのファイルを添付してください。添付しない場合は本文を直してください。"),
    "hint.password_zip_attached": (
        "元のファイルを添付し、SendGuardの「暗号化して送信」（またはリンク送信）を使ってください。"
        "鍵は確認した宛先にだけ届き、このメールでは送られません。"),
    "hint.large_attachment": (
        "SendGuardのリンク送信を検討してください。ファイルは暗号化して保管され、"
        "宛先ごとにダウンロード用のリンクが届きます。"),
    "finding.blocked_recipient": "{names}: ポリシーにより送信が禁止されている宛先です。",
    "finding.missing_required_bcc": (
        "社外宛てのメールには {missing} をBccに入れる必要がありますが、入っていません。"),
    "finding.confidential_keyword": (
        "社外の宛先があるのに、{place}に「{keyword}」が含まれています。"),
    "finding.personal_data": (
        "社外の宛先があるのに、{place}に個人情報が{total}件含まれています（{kinds}）。"),
    "finding.unencrypted_attachment": "添付ファイル {name} は暗号化されずに社外へ送られます。",
    "finding.blocked_attachment": "添付ファイル {name} は禁止されたファイル形式（{ext}）です。",
    "place.subject": "件名",
    "place.body": "本文",
    "place.attachment": "添付ファイル {name} ",
    "place.attachment_name": "添付ファイル名 {name} ",
    "kind.emails": "メールアドレス {n}件",
    "kind.phones": "電話番号 {n}件",
    "kind.my_numbers": "マイナンバー {n}件",
    "kind.cards": "カード番号 {n}件",
    "field.to": "宛先(To)",
    "field.cc": "Cc",
    "field.bcc": "Bcc",
    "severity.block": "禁止",
    "severity.warn": "警告",
    "severity.info": "情報",
    "note.zip_bomb": "{path}: ZIP爆弾の疑いがあるため、中身は確認していません。",
    "note.too_deep": "{path}: 圧縮ファイルの入れ子が深すぎるため、内側は確認していません。",
    "note.too_many_entries": "{path}: ファイル数が多すぎるため、残りは確認していません。",
    "note.too_large": "{path}: 大きすぎるため、すべては確認できませんでした。",
    "note.corrupt": "{path}: ファイルが壊れているため読めませんでした。",
    "note.encrypted_member": "{path}: 暗号化されているため、中身は確認していません。",
    "note.unsupported": "{path}: この形式は個人情報の確認対象外です。",
    "note.truncated": "{path}: 大きいため、先頭部分だけを確認しました。",
    "finding.personal_data_partial": (
        "社外の宛先があるのに、{place}に個人情報が少なくとも{total}件含まれています（{kinds}）。"
        "一部しか読めなかったため、実際はさらに多い可能性があります。"),
    "finding.incomplete_check": (
        "{place}はサイズ・構造・時間の上限によりすべてを確認できませんでした。"
        "確認できなかった部分に個人情報や禁止ファイルが含まれている可能性があります。"),
    "place.message": "本文とメッセージ構造",
    "place.recipients": "宛先リスト",
    "hint.incomplete_check": (
        "確認できなかった部分をご自身で確認するか、ファイルを小さくするか、"
        "「暗号化して送信」をお使いください。"),
    "note.deadline": "{path}: 確認の制限時間を超えたため、残りは確認していません。",
    "note.enough": "{path}: 先頭部分だけで多数の個人情報が見つかったため、残りは読んでいません。",
    "note.mime_too_many_parts": (
        "メッセージのパートが{path}を超えるため、残りのパートは確認していません。"),
    "note.mime_too_deep": (
        "メッセージの入れ子が{path}段を超えるため、内側のパートは確認していません。"),
    "note.body_truncated": "{path}本文が長すぎるため、先頭部分だけを確認しました。",
    "note.header_truncated": "{path}ヘッダーが長すぎるため、先頭部分だけを読みました。",
    "note.too_many_recipients": "宛先が{path}件あるため、先頭の宛先だけを確認しました。",
    "note.bad_encoding": "{path}: エンコードが壊れているため、読める範囲で復元しました。",
    "note.busy": (
        "サービスが混み合っているため、内容は確認していません。"
        "しばらくしてからもう一度お試しください。"),
    "note.analysis_failed": "制限（時間またはメモリ）内に内容を確認できませんでした。",
    "note.more_findings": "{code} の指摘があと{n}件ありますが、表示していません。",
    "note.other": "{path}: {code}",
    "cli.no_findings": "指摘はありません。",
    "cli.header": "重大度    コード                     場所         内容",
    "cli.summary": "禁止 {block}件、警告 {warn}件、情報 {info}件",
    "cli.notes": "補足:",
    "cli.error": "sendguard: エラー: {message}",
    "cli.not_a_message": "{path}: メールメッセージではありません",
    "cli.unreadable": "{path}: 読み込めません: {reason}",
    "cli.protect_done": (
        "{out} を書き出しました: 添付{n}件を {zip} に暗号化（パッケージ {package_id}）。"),
    "cli.protect_done.one": (
        "{out} を書き出しました: 添付{n}件を {zip} に暗号化（パッケージ {package_id}）。"),
    "cli.protect_link_done": (
        "{out} を書き出しました: 添付{n}件を暗号化して保管し、リンクでお渡しします"
        "（パッケージ {package_id}）。"),
    "cli.protect_link_done.one": (
        "{out} を書き出しました: 添付{n}件を暗号化して保管し、リンクでお渡しします"
        "（パッケージ {package_id}）。"),
    "cli.protect_password": "パスワード: {password}",
    "cli.a_file": "ファイル",
    "cli.file_error": "{path}: {reason}",
    "cli.no_package": "パッケージ {package_id} はありません（'sendguard keys list' を参照）",
    "cli.usage_error": "{message}（'{command} --help' を参照）",
    "cli.arg_required": "次の指定がありません: {a1}",
    "cli.unrecognized": "解釈できない引数: {args}",
    "cli.arg_choice": "{a1}: {a2} は指定できません（{a3} のいずれか）",
    "cli.arg_expected": "{a1} には値が必要です",
    "cli.arg_invalid": "{a1}: 正しくない値です: {a2}",
    "cli.arg_conflict": "{a1} と {a2} は同時に指定できません",
    "cli.database_unreachable": "データベース {url} に接続できません: {reason}",
    "cli.database_failed": "データベース {url} でエラーが起きました: {reason}",
    "cli.protect_nobody": (
        "パスワードを受け取る人がいません: --key-to アドレス（メッセージの宛先）または "
        "--reveal-password を指定してください"),
    "cli.protect_too_large": (
        "{path}: {mb:.1f} MB あり、メッセージの上限 {limit_mb:.0f} MB を超えています。"
        "何も暗号化していません"),
    "cli.policy_broken": "読み込めないポリシーではサービスを起動しません: {message}",
    "cli.no_devtools": (
        "sendguard dev は開発用の道具で、このインストールには含まれていません"
        "（本番イメージには入れていません）。ソースから実行してください（make run）"
    ),
    "policy.not_found": "ポリシーファイルがありません",
    "policy.is_directory": "ポリシーファイルではなくディレクトリです",
    "policy.not_utf8": (
        "ポリシーファイルを読み込めません: UTF-8のテキストではありません（{offset}バイト目）"),
    "policy.unreadable": "ポリシーファイルを読み込めません: {reason}",
    "policy.invalid_toml": "TOMLとして正しくありません: {reason}",
    "policy.unknown_section": "不明なセクション [{section}] です（使えるもの: {known}）",
    "policy.not_table": "'{section}' はテーブル [{section}] で書いてください",
    "policy.unknown_key": "不明なキー '{key}' です（[{section}] で使えるもの: {known}）",
    "policy.bad_value": "'{key}': {reason}",
    "value.whole_number": "整数で指定してください（指定されたのは{type}）",
    "value.negative": "負の数は指定できません",
    "value.bool": "true か false で指定してください（指定されたのは{type}）",
    "value.duration": "秒数、または \"30s\"、\"5m\"、\"1h\"、\"7d\" のような期間で指定してください",
    "value.deadline": "1秒から{max}秒の間で指定してください（解析は必ず制限時間内に終わります）",
    "value.size": "\"10MB\"、\"500KB\" のようなサイズ、またはバイト数で指定してください",
    "value.one_of": "次のいずれかで指定してください: {choices}",
    "value.strings": "文字列のリストで指定してください（指定されたのは{type}）",
    "value.empty_string": "空の文字列は指定できません",
    "value.domain": "'{value}' は正しいドメインではありません",
    "value.time_zone": "\"Asia/Tokyo\" のようなIANAタイムゾーン名で指定してください",
    "value.unknown_time_zone": (
        "'{value}' は既知のIANAタイムゾーンではありません（例: \"Asia/Tokyo\"）"),
    "type.string": "文字列",
    "type.number": "数値",
    "type.bool": "true/false",
    "type.list": "リスト",
    "type.table": "テーブル",
    "pattern.not_text": "'{entry}' は文字列ではありません",
    "pattern.empty": "'{entry}' は空です",
    "pattern.excepts_nothing": "'{entry}' は何も除外していません（- の後が空です）",
    "pattern.blanks": "'{entry}' に空白または制御文字が含まれています",
    "pattern.two_at": "'{entry}' に @ が2つ以上あります",
    "pattern.no_domain": "'{entry}' の @ の後にドメインがありません",
    "pattern.bad_local": "'{entry}' にアドレスに使えない文字が含まれています",
    "pattern.bad_domain": "'{entry}' のドメインは存在し得ません",
    "pattern.names_no_domain": "'{entry}' はドメインを指定していません",
    "pattern.invalid_domain": "'{entry}' は正しいドメインではありません",
    "pattern.no_domain_match": "'{entry}' はどのドメインにも一致しないパターンです",
    "message.too_large": "メッセージが大きすぎます（{mb} MB）",
    "message.header_too_large": "ヘッダー部分が大きすぎます",
    "message.binary_header": "メールメッセージではありません（ヘッダーにバイナリデータがあります）",
    "message.no_headers": "メールメッセージではありません（メールのヘッダーがありません）",
    "cli.no_such_file": "{path}: ファイルがありません",
    "cli.is_directory": "{path}: ディレクトリです",
    "cli.limit_positive": "--limit には1以上を指定してください",
    "cli.since_until": "--since は --until より前にしてください",
    "cli.interval_positive": "--interval には0秒より大きい値を指定してください",
    "cli.no_tables": (
        "データベース {url} にSendGuardのテーブルがありません: "
        "'sendguard db upgrade' を実行してください"),
}
