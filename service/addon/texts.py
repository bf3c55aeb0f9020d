"""Texts of the Gmail add-on cards, in English and Japanese (merged by ``service.i18n``).

Keys start with ``addon.``; ``hint.<code>`` says in plain words what to do about a finding.
"""

from __future__ import annotations

EN: dict[str, str] = {
    # common
    "addon.name": "SendGuard",
    "addon.external": "External",
    "addon.internal": "Internal",
    "addon.more": "… and {n} more",
    "addon.button.check_send": "Check & send",
    "addon.button.recheck": "Check again",
    "addon.button.retry": "Try again",
    "addon.button.send": "Send",
    "addon.button.pick": "This one",
    "addon.button.fix_external": "Move external To/Cc to Bcc",
    "addon.button.fix_everyone": "Move everyone to Bcc (keep me in To)",
    # homepage
    "addon.home.subtitle": "Checks your e-mail before it leaves",
    "addon.home.enforced": "Send with Check & send",
    "addon.home.enforced.text": (
        "Your organisation delivers outside mail only after SendGuard's check: a message "
        "sent with Gmail's own <b>Send</b> button is rejected and you get a notice in your "
        "inbox. Open the draft and use <b>Check & send</b> (or <b>Encrypt & send</b>)."),
    "addon.home.checks": "What SendGuard checks",
    "addon.home.check.visible": (
        "Many external recipients in To/Cc who can see each other's addresses "
        "(they belong in Bcc)."),
    "addon.home.check.recipients": (
        "Wrong recipients: look-alike domains, private addresses, addresses typed without "
        "a comma or with a line break, blocked recipients."),
    "addon.home.check.content": (
        "Sensitive content: confidential keywords and personal data in the body and in "
        "attachments."),
    "addon.home.check.attachments": (
        "Attachments: unencrypted files t"
        "o outsiders, blocked file types."),
    "addon.home.policy": "Your organisation's policy",
    "addon.home.policy.internal": "Internal domains",
    "addon.home.policy.none": "none set: every recipient counts as external",
    "addon.home.policy.visible": "External addresses allowed in To/Cc: {n}",
    "addon.home.policy.orgs": "External organisations allowed in To/Cc together: {n}",
    "addon.home.policy.bcc": "Bcc addresses before a warning: {n}",
    "addon.home.policy.encryption": "Attachments to outsiders must be encrypted: {value}",
    "addon.home.policy.required_bcc": "Always Bcc on external mail: {value}",
    "addon.home.policy.override": "Blocks you may override with a reason: {value}",
    "addon.home.yes": "yes",
    "addon.home.no": "no",
    "addon.home.howto": "How to use",
    "addon.home.howto.text": (
        "Open SendGuard while you write a message. It checks the recipients as you go; "
        "use <b>Check & send</b> instead of Gmail's Send button to check the whole message, "
        "attachments included, and send it. With attachments, <b>Encrypt & send</b> puts them "
        "in an encrypted ZIP and sends the password separately to the recipients you choose."),
    # compose
    "addon.compose.title": "Check before sending",
    "addon.compose.ok": "No problems found in the recipients.",
    "addon.compose.summary": "{block} to fix, {warn} to confirm",
    "addon.compose.empty": "Add recipients to the message; SendGuard checks them as you go.",
    "addon.section.block": "Must be fixed before sending ({n})",
    "addon.section.warn": "Check these before sending ({n})",
    "addon.section.info_untick": "For your information, nothing to tick ({n})",
    "addon.section.info": "Good to know ({n})",
    "addon.section.fix": "Fix it in one click",
    "addon.section.fix.text": (
        "Bcc hides the recipients from each other. Gmail's compose window is updated; "
        "nothing is sent."),
    "addon.section.domains": "External recipients by domain ({d} domains, {n} addresses)",
    "addon.domain.count": "{n} {n|address|addresses}: {fields}",
    "addon.domain.more": "… and {n} more domains ({addresses} addresses)",
    "addon.where": "Where: {where}",
    "addon.notes": "Not checked completely",
    # confirmation
    "addon.confirm.title": "Confirm before sending",
    "addon.confirm.subject": "Subject: {subject}",
    "addon.confirm.no_subject": "(no subject)",
    "addon.confirm.changed": (
        "The draft changed since you last looked (recipients or findings). Please confirm "
        "again."),
    "addon.confirm.refused": (
        "Not sent: tick every recipient and every warning, and give a reason for each "
        "override."),
    "addon.confirm.blocked": "Fix these in the draft, then check again. They cannot be sent.",
    "addon.confirm.override": "Reason for sending anyway (required, at least {n} characters)",
    "addon.confirm.warn": "Tick each warning to confirm you have read it",
    "addon.confirm.recipients": "Tick each recipient ({n}) to confirm the address is right",
    "addon.confirm.recipients.grouped": (
        "{n} recipients: tick each domain to confirm every address in it is right"),
    "addon.confirm.recipients.quiet": (
        "Nothing to tick: check the {n} {n|recipient|recipients} below, then Send"),
    "addon.confirm.external_section": "External recipients ({n})",
    "addon.confirm.internal_section": "Internal recipients ({n})",
    "addon.confirm.recipient": "{address} · {field}",
    "addon.confirm.recipient.external": "⚠ {address} · {field} · external ({domain})",
    "addon.confirm.group": "{domain}: {n} {n|address|addresses} · {fields}",
    "addon.confirm.group.external": "⚠ {domain}: {n} external {n|address|addresses} · {fields}",
    "addon.confirm.no_recipients": "The draft has no recipients yet.",
    "addon.confirm.notes": "Could not be checked completely:",
    # sending
    "addon.sent.title": "Sent",
    "addon.sent.text": "Your message was sent to {n} {n|recipient|recipients}.",
    "addon.sent.close": (
        "Close the compose window and discard it if Gmail offers to keep a copy: the "
        "message has already left."),
    "addon.already_sent": "This draft was already sent; it was not sent again.",
    # finding the draft
    "addon.draft.not_saved.title": "The draft is not saved yet",
    "addon.draft.not_saved": (
        "Gmail has not saved this draft yet, so SendGuard cannot read it. Wait a few "
        "seconds (Gmail saves as you type) and try again."),
    "addon.draft.ambiguous.title": "Which draft?",
    "addon.draft.ambiguous": (
        "Several saved drafts match this message. Pick the one you are writing."),
    "addon.draft.candidate": "{subject} · {n} {n|recipient|recipients}",
    "addon.draft.candidate.to": "To: {to}",
    # scopes
    "addon.scopes": "SendGuard needs your permission to read and send this draft.",
    # errors
    "addon.error.title": "Something went wrong",
    "addon.error.nothing_sent": "Nothing was sent.",
    "addon.error.transient": "Gmail is not answering right now. Please try again in a moment.",
    "addon.error.gmail": "Gmail refused the request (HTTP {status}).",
    "addon.error.not_found": (
        "The draft no longer exists: it may have been sent or discarded in the meantime."),
    "addon.error.conflict": (
        "SendGuard could not tell whether this draft was just sent (perhaps from another "
        "click or window). Check your Sent folder before trying again."),
    "addon.error.uncertain": (
        "Gmail did not confirm the send: the message may or may not have gone out. Check "
        "your Sent folder before trying again."),
    "addon.error.input": "The request could not be handled: {message}",
    "addon.error.unexpected": "An unexpected error occurred. It has been logged.",
    # encrypt & send
    "addon.button.encrypt_send": "Encrypt & send",
    "addon.button.revoke": "Revoke password",
    "addon.button.release": "Release now",
    "addon.confirm.attachments": "Attachments ({n})",
    "addon.confirm.encrypt_offer": (
        "Encrypt & send puts them in one AES-256 ZIP. Next you choose who gets the "
        "password; it goes by a separate e-mail, never with your message."),
    "addon.confirm.encrypt_only": (
        "Sending these attachments unencrypted is not allowed: use Encrypt & send."),
    "addon.confirm.nothing_to_encrypt": "This draft has no attachments to encrypt.",
    "addon.keys.title": "Who gets the password?",
    "addon.keys.intro": (
        "Tick each recipient who should get the password. Each gets a separate e-mail "
        "from SendGuard with a link; the password never travels with your message."),
    "addon.keys.label": "Send the password to",
    "addon.keys.files": "Files to encrypt ({n})",
    "addon.keys.method.label": "How the files travel",
    "addon.keys.refused.method": (
        "Choose how the files travel: ZIP or download link."),
    "addon.keys.method.zip": "Encrypted ZIP attached to the message",
    "addon.keys.method.link": (
        "Kept encrypted by SendGuard; recipients download them (can be recalled)"),
    "addon.keys.mode.title": "When the password goes out",
    "addon.keys.mode.delay": (
        "After sending, the password is held for {delay}: until then you can revoke it. "
        "Then each ticked recipient gets the link."),
    "addon.keys.mode.manual": (
        "After sending, the password waits until you release it (here or on "
        "SendGuard's home card)."),
    "addon.keys.mode.sender_only": (
        "Your organisation's policy sends the password to you only ({sender}), after "
        "{delay}. Pass it on by another route, such as by phone."),
    "addon.keys.refused.none": "Not sent: tick at least one recipient to get the password.",
    "addon.keys.refused.forged": (
        "Not sent: {address} is not a recipient of this draft. The password can only go "
        "to a recipient."),
    "addon.keys.not_confirmed": (
        "Not sent: confirm the recipients and warnings first, then choose Encrypt & send."),
    "addon.encrypted.title": "Encrypted and sent",
    "addon.encrypted.text": (
        "Your message went to {n} {n|recipient|recipients} with its attachments in one "
        "encrypted ZIP: {zip_name} ({files} {files|file|files})."),
    "addon.encrypted.link_text": (
        "Your message went to {n} {n|recipient|recipients} without its attachments: "
        "{files} {files|file is|files are} kept encrypted for download by link, and can be "
        "recalled."),
    "addon.encrypted.link_name": "Files by download link",
    "addon.package.line": "{zip_name} · {n} {n|recipient|recipients}",
    "addon.package.created": "{state} · sent {at}",
    "addon.package.key_to": "Password to: {addresses}",
    "addon.package.key_to_none": "Password to: nobody yet",
    "addon.package.state.held": "Password held until {at}",
    "addon.package.state.held_sender": "Password goes to you only at {at}",
    "addon.package.state.unconfirmed": (
        "Held: the message was not confirmed sent. Release or revoke it."),
    "addon.package.state.awaiting_release": "Password awaiting your release",
    "addon.package.state.released": "Password released at {at}",
    "addon.package.state.released_sender": "Password sent to you only at {at}",
    "addon.package.state.revoked": "Revoked: no code or password works now",
    "addon.package.state.expired": "Expired",
    "addon.package.state_name.held": "held",
    "addon.package.state_name.awaiting_release": "awaiting release",
    "addon.package.state_name.released": "released",
    "addon.package.state_name.revoked": "revoked",
    "addon.package.state_name.expired": "expired",
    "addon.package.held_help": (
        "Until then you can revoke it here or on SendGuard's home card."),
    "addon.package.revoked_notice": "Revoked: no code or password works now.",
    "addon.package.released_notice": "Released: {n} {n|e-mail|e-mails} with the link sent.",
    "addon.package.release_retry": (
        "Released, but the e-mails with the link could not be sent yet; they are retried "
        "automatically."),
    "addon.package.unchanged": "Nothing changed: the password is already {state}.",
    "addon.home.packages": "Your encrypted attachments (recent {n})",
    "addon.home.packages.unavailable": "Your recent encrypted attachments could not be loaded.",
    "addon.error.package_not_found": "This encrypted attachment was not found.",
    # hints: what to do, per finding code
    "hint.external_recipients": "Make sure every outside recipient is meant to get this.",
    "hint.many_visible_recipients": (
        "Everyone in To/Cc sees all the other addresses. Use the Bcc button below."),
    "hint.cross_domain_exposure": (
        "People from different companies would see each other's addresses. Move them "
        "to Bcc or send separately."),
    "hint.personal_address_visible": (
        "A private address is shown to other outsiders. Move it to Bcc."),
    "hint.many_bcc_recipients": (
        "A long Bcc list is often left over from a template. Check that it is the right list."),
    "hint.invalid_address": "Correct or split this entry in the compose window.",
    "hint.lookalike_domain": "Check the spelling of the domain; it is not the one you know.",
    "hint.blocked_recipient": "Remove this recipient; policy forbids sending to it.",
    "hint.missing_required_bcc": "Add the required address to Bcc.",
    "hint.confidential_keyword": "Make sure confidential material may go to these outsiders.",
    "hint.personal_data": "Personal data should not go to outsiders unprotected.",
    "hint.unencrypted_attachment": (
        "Use Encrypt & send: the attachments go in one AES-256 ZIP and the password goes "
        "separately, only to the recipients you choose."),
    "hint.blocked_attachment": "Remove the attachment; this file type may not be sent.",
    "hint.default": "Review this before sending.",
    # granular consent, draft matching, recent packages (issue 8)
    "addon.scopes.title": "Permission needed",
    "addon.scopes.missing": (
        "You granted SendGuard only some of the permissions it asks for. Without these it "
        "cannot do this step:"),
    "addon.scopes.scope.gmail.addons.execute": "Run as a Gmail add-on",
    "addon.scopes.scope.gmail.addons.current.action.compose": (
        "Change the recipients of the message you are writing (the Bcc fixes)"),
    "addon.scopes.scope.gmail.addons.current.message.metadata": (
        "See the recipients of the message you are writing"),
    "addon.scopes.scope.gmail.compose": "Read your saved draft in full and send it",
    "addon.scopes.scope.userinfo.email": "Know which account is writing (the sender)",
    "addon.scopes.scope.script.locale": "Show cards in your language and time zone",
    "addon.scopes.nothing_else": "Nothing is read or sent until you allow it.",
    "addon.button.grant": "Allow access",
    "addon.scopes.granted": "Thank you: SendGuard has the permissions it needs now.",
    "addon.draft.candidate.saved": "saved {at}",
    "addon.draft.candidate.fields": "To: {to}",
    "addon.draft.candidate.cc": "Cc: {cc}",
    "addon.draft.candidate.bcc": "Bcc: {bcc}",
    "addon.draft.candidate.none": "(none)",
    "addon.confirm.fix": "Move the addresses to Bcc here, then check again:",
    "addon.fixed.moved": (
        "Moved {n} {n|address|addresses} to Bcc. The check below is of the new recipients."),
    "addon.package.line.subject": "{subject}",
    "addon.package.line.to": "To {to} · {zip_name}",
    "addon.package.state.released_unconfirmed": (
        "Released, but the message is not confirmed sent: no notice goes out until it is. "
        "Revoke it if the message did not leave."),
    "addon.error.sent_unrecorded": (
        "Your message was sent, but SendGuard could not record it just now. It will be "
        "recorded the next time you open SendGuard; do not send it again."),
    "addon.already_unconfirmed": (
        "This draft already left Drafts after a send that Gmail did not confirm: it was "
        "most likely sent. Check your Sent folder; it was not sent again."),
}

JA: dict[str, str] = {
    # common
    "addon.name": "SendGuard",
    "addon.external": "社外",
    "addon.internal": "社内",
    "addon.more": "…ほか{n}件",
    "addon.button.check_send": "確認して送信",
    "addon.button.recheck": "もう一度確認",
    "addon.button.retry": "再試行",
    "addon.button.send": "送信",
    "addon.button.pick": "この下書き",
    "addon.button.fix_external": "社外のTo/CcをBccに移す",
    "addon.button.fix_everyone": "全員をBccに移す（自分はToに残す）",
    # homepage
    "addon.home.subtitle": "送信前にメールを確認します",
    "addon.home.enforced": "［確認して送信］で送ってください",
    "addon.home.enforced.text": (
        "この組織では、SendGuard の確認を経たメールだけが社外に配信されます。Gmail の"
        "<b>送信</b>ボタンで送ったメールは拒否され、受信トレイに通知が届きます。下書きを開き、"
        "<b>確認して送信</b>（または<b>暗号化して送信</b>）を使ってください。"),
    "addon.home.checks": "SendGuardが確認すること",
    "addon.home.check.visible": (
        "To/Ccに社外の宛先が多く、互いのアドレスが見えてしまう（Bccにすべきもの）。"),
    "addon.home.check.recipients": (
        "宛先の間違い: よく似たドメイン、個人アドレス、カンマ抜けや改行の入ったアドレス、"
        "送信禁止の宛先。"),
    "addon.home.check.content": "機密の内容: 本文や添付ファイル中の機密キーワードや個人情報。",
    "addon.home.check.attachments": (
        "添付ファイル: 社外への暗号化され"
        "ていないファイル、禁止された形式。"),
    "addon.home.policy": "組織のポリシー",
    "addon.home.policy.internal": "社内ドメイン",
    "addon.home.policy.none": "未設定（すべての宛先を社外として扱います）",
    "addon.home.policy.visible": "To/Ccに入れてよい社外アドレス: {n}件まで",
    "addon.home.policy.orgs": "To/Ccに同時に入れてよい社外の組織: {n}まで",
    "addon.home.policy.bcc": "警告なしでBccに入れられるアドレス: {n}件まで",
    "addon.home.policy.encryption": "社外への添付ファイルの暗号化を必須にする: {value}",
    "addon.home.policy.required_bcc": "社外宛てで必ずBccに入れる宛先: {value}",
    "addon.home.policy.override": "理由を書けば送信できる禁止項目: {value}",
    "addon.home.yes": "はい",
    "addon.home.no": "いいえ",
    "addon.home.howto": "使い方",
    "addon.home.howto.text": (
        "メールを書くときにSendGuardを開くと、宛先をその場で確認します。Gmailの送信ボタンの"
        "代わりに<b>確認して送信</b>を使うと、添付ファイルを含むメール全体を確認してから送信します。"
        "添付ファイルがあるときは<b>暗号化して送信</b>で暗号化したZIPにまとめ、パスワードは選んだ宛先に"
        "別に送ります。"),
    # compose
    "addon.compose.title": "送信前の確認",
    "addon.compose.ok": "宛先に問題は見つかりませんでした。",
    "addon.compose.summary": "要修正 {block}件、要確認 {warn}件",
    "addon.compose.empty": "宛先を入力すると、SendGuardがその場で確認します。",
    "addon.section.block": "送信前に必ず直すこと（{n}件）",
    "addon.section.warn": "送信前に確認すること（{n}件）",
    "addon.section.info_untick": "参考情報：チェックは不要です（{n}件）",
    "addon.section.info": "参考情報（{n}件）",
    "addon.section.fix": "ワンクリックで直す",
    "addon.section.fix.text": (
        "Bccに入れると宛先どうしのアドレスは見えません。Gmailの作成画面が書き換わるだけで、"
        "送信はされません。"),
    "addon.section.domains": "社外の宛先（ドメイン別、{d}ドメイン・{n}件）",
    "addon.domain.count": "{n}件: {fields}",
    "addon.domain.more": "…ほか{n}ドメイン（{addresses}件）",
    "addon.where": "場所: {where}",
    "addon.notes": "確認しきれなかったもの",
    # confirmation
    "addon.confirm.title": "送信前の最終確認",
    "addon.confirm.subject": "件名: {subject}",
    "addon.confirm.no_subject": "（件名なし）",
    "addon.confirm.changed": (
        "前回の確認の後で下書きが変わりました（宛"
        "先または指摘）。もう一度確認してください。"),
    "addon.confirm.refused": (
        "送信していません: すべての宛先と警告にチェックを入れ、例外として送る項目には理由を"
        "書いてください。"),
    "addon.confirm.blocked": (
        "下書きで以下を直してから、もう一度確認し"
        "てください。このままでは送信できません。"),
    "addon.confirm.override": "それでも送信する理由（必須、{n}文字以上）",
    "addon.confirm.warn": "警告を読んだら、それぞれにチェックを入れてください",
    "addon.confirm.recipients": "宛先（{n}件）が正しいか、1件ずつ確認してチェックしてください",
    "addon.confirm.recipients.grouped": (
        "宛先は{n}件です。ドメインごとに、すべてのアドレスが正しいか確認してチェックしてください"),
    "addon.confirm.recipients.quiet": (
        "チェックは不要です。下の宛先（{n}件）を確かめて送信してください"),
    "addon.confirm.external_section": "社外の宛先（{n}件）",
    "addon.confirm.internal_section": "社内の宛先（{n}件）",
    "addon.confirm.recipient": "{address} · {field}",
    "addon.confirm.recipient.external": "⚠ {address} · {field} · 社外（{domain}）",
    "addon.confirm.group": "{domain}: {n}件 · {fields}",
    "addon.confirm.group.external": "⚠ {domain}: 社外 {n}件 · {fields}",
    "addon.confirm.no_recipients": "下書きにまだ宛先がありません。",
    "addon.confirm.notes": "確認しきれなかったもの:",
    # sending
    "addon.sent.title": "送信しました",
    "addon.sent.text": "{n}件の宛先にメールを送信しました。",
    "addon.sent.close": (
        "作成画面を閉じてください。Gmailが下書きを残すか尋ねた場合は破棄してください"
        "（メールはすでに送信されています）。"),
    "addon.already_sent": "この下書きはすでに送信済みです。二重には送信していません。",
    # finding the draft
    "addon.draft.not_saved.title": "下書きがまだ保存されていません",
    "addon.draft.not_saved": (
        "Gmailがまだこの下書きを保存していないため、SendGuardが読み取れません。数秒待ってから"
        "（Gmailは入力中に自動保存します）もう一度お試しください。"),
    "addon.draft.ambiguous.title": "どの下書きですか",
    "addon.draft.ambiguous": (
        "このメールに当てはまる下書きが複数あ"
        "ります。作成中のものを選んでください。"),
    "addon.draft.candidate": "{subject} · 宛先{n}件",
    "addon.draft.candidate.to": "宛先: {to}",
    # scopes
    "addon.scopes": "この下書きを読み取って送信するには、SendGuardへの許可が必要です。",
    # errors
    "addon.error.title": "問題が発生しました",
    "addon.error.nothing_sent": "メールは送信されていません。",
    "addon.error.transient": "Gmailが現在応答していません。少し待ってからもう一度お試しください。",
    "addon.error.gmail": "Gmailが要求を拒否しました（HTTP {status}）。",
    "addon.error.not_found": (
        "下書きが見つかりません。すでに送信さ"
        "れたか、破棄された可能性があります。"),
    "addon.error.conflict": (
        "この下書きが直前に送信されたかどうか確認できませんでした（別のクリックや画面から送信された"
        "可能性があります）。もう一度試す前に送信済みフォルダを確認してください。"),
    "addon.error.uncertain": (
        "Gmailから送信の確認が得られませんでした。送信されたかどうか分かりません。もう一度試す前に"
        "送信済みフォルダを確認してください。"),
    "addon.error.input": "要求を処理できませんでした: {message}",
    "addon.error.unexpected": "予期しないエラーが発生しました。記録済みです。",
    # encrypt & send
    "addon.button.encrypt_send": "暗号化して送信",
    "addon.button.revoke": "パスワードを取り消す",
    "addon.button.release": "今すぐ解放",
    "addon.confirm.attachments": "添付ファイル（{n}件）",
    "addon.confirm.encrypt_offer": (
        "「暗号化して送信」では、添付ファイルを1つのAES-256 ZIPにまとめます。次に、パスワードを"
        "受け取る人を選びます。パスワードはメールとは別の通知で届き、メールには含まれません。"),
    "addon.confirm.encrypt_only": (
        "この添付ファイルは暗号化せずに送信できません。「暗号化して送信」を使ってください。"),
    "addon.confirm.nothing_to_encrypt": "この下書きには暗号化する添付ファイルがありません。",
    "addon.keys.title": "パスワードを受け取る人",
    "addon.keys.intro": (
        "パスワードを受け取る宛先にチェックを入れてください。それぞれにSendGuardからリンク付きの"
        "別のメールが届きます。パスワードがメールと一緒に送られることはありません。"),
    "addon.keys.label": "パスワードを送る相手",
    "addon.keys.files": "暗号化するファイル（{n}件）",
    "addon.keys.method.label": "ファイルの送り方",
    "addon.keys.refused.method": (
        "ファイルの送り方（ZIP またはダウンロードリンク）を選んでください。"),
    "addon.keys.method.zip": "暗号化 ZIP をメールに添付",
    "addon.keys.method.link": (
        "SendGuard で暗号化して保管し、受信者がダウンロード（送信後も取り消し可）"),
    "addon.keys.mode.title": "パスワードを送るタイミング",
    "addon.keys.mode.delay": (
        "送信後、パスワードは{delay}保留されます。その間は取り消せます。その後、チェックした"
        "宛先にリンクが届きます。"),
    "addon.keys.mode.manual": (
        "送信後、パスワードはあなたが解放するまで送られません（この画面またはSendGuardの"
        "ホーム画面から解放）。"),
    "addon.keys.mode.sender_only": (
        "組織のポリシーにより、パスワードは{delay}後にあなた（{sender}）だけに届きます。"
        "電話など別の方法で相手に伝えてください。"),
    "addon.keys.refused.none": (
        "送信していません: パスワードを受け取る宛先を1件以上選んでください。"),
    "addon.keys.refused.forged": (
        "送信していません: {address} はこの下書きの宛先ではありません。パスワードは宛先にしか"
        "送れません。"),
    "addon.keys.not_confirmed": (
        "送信していません: 先に宛先と警告を確認してから「暗号化して送信」を選んでください。"),
    "addon.encrypted.title": "暗号化して送信しました",
    "addon.encrypted.text": (
        "{n}件の宛先にメールを送信しました。添付ファイルは暗号化したZIP 1つにまとめてあります: "
        "{zip_name}（{files}件のファイル）。"),
    "addon.encrypted.link_text": (
        "{n}件の宛先にメールを送信しました。添付ファイル（{files}件）はメールに含めず、"
        "暗号化して保管しています。ダウンロード用のリンクで渡り、取り消すこともできます。"),
    "addon.encrypted.link_name": "ダウンロードリンクのファイル",
    "addon.package.line": "{zip_name} · 宛先{n}件",
    "addon.package.created": "{state} · {at} 送信",
    "addon.package.key_to": "パスワードの送付先: {addresses}",
    "addon.package.key_to_none": "パスワードの送付先: なし",
    "addon.package.state.held": "パスワードは{at}まで保留中",
    "addon.package.state.held_sender": "パスワードは{at}にあなただけに届きます",
    "addon.package.state.unconfirmed": (
        "保留中: メールの送信を確認できませんでした。解放するか取り消してください。"),
    "addon.package.state.awaiting_release": "パスワードはあなたの解放待ち",
    "addon.package.state.released": "パスワードは{at}に解放済み",
    "addon.package.state.released_sender": "パスワードは{at}にあなただけに送付済み",
    "addon.package.state.revoked": "取り消し済み: 確認コードもパスワードも使えません",
    "addon.package.state.expired": "期限切れ",
    "addon.package.state_name.held": "保留中",
    "addon.package.state_name.awaiting_release": "解放待ち",
    "addon.package.state_name.released": "解放済み",
    "addon.package.state_name.revoked": "取り消し済み",
    "addon.package.state_name.expired": "期限切れ",
    "addon.package.held_help": "それまでは、この画面またはSendGuardのホーム画面から取り消せます。",
    "addon.package.revoked_notice": "取り消しました。確認コードもパスワードも使えなくなりました。",
    "addon.package.released_notice": "解放しました。リンク付きのメールを{n}件送りました。",
    "addon.package.release_retry": (
        "解放しましたが、リンク付きのメールをまだ送れていません。自動的に再送します。"),
    "addon.package.unchanged": "変更はありません。パスワードはすでに{state}です。",
    "addon.home.packages": "最近の暗号化した添付ファイル（{n}件）",
    "addon.home.packages.unavailable": "最近の暗号化した添付ファイルを読み込めませんでした。",
    "addon.error.package_not_found": "この暗号化した添付ファイルは見つかりません。",
    # hints
    "hint.external_recipients": "社外の宛先がすべて送るべき相手か確認してください。",
    "hint.many_visible_recipients": (
        "To/Ccの全員に他の全員のアドレスが見えます。下のBccボタンを使ってください。"),
    "hint.cross_domain_exposure": (
        "別々の会社の人どうしにアドレスが見えます。Bccに移すか、別々に送ってください。"),
    "hint.personal_address_visible": (
        "個人のアドレスが他の社外の人に見"
        "えます。Bccに移してください。"),
    "hint.many_bcc_recipients": (
        "Bccが多いときは、テンプレートの宛先が残っていることがあります。正しい宛先か確認してください。"),
    "hint.invalid_address": "作成画面でこの宛先を直すか、分けて入力してください。",
    "hint.lookalike_domain": "ドメインの綴りを確認してください。いつもの相手とは別のドメインです。",
    "hint.blocked_recipient": "この宛先を削除してください。ポリシーで送信が禁止されています。",
    "hint.missing_required_bcc": "必要なアドレスをBccに追加してください。",
    "hint.confidential_keyword": "機密の資料をこの社外の相手に送ってよいか確認してください。",
    "hint.personal_data": "個人情報を保護せずに社外へ送るべきではありません。",
    "hint.unencrypted_attachment": (
        "「暗号化して送信」を使ってください。添付ファイルはAES-256のZIPにまとめられ、"
        "パスワードは選んだ宛先にだけ別に届きます。"),
    "hint.blocked_attachment": "添付ファイルを外してください。この形式は送信できません。",
    "hint.default": "送信前に確認してください。",
    # granular consent, draft matching, recent packages (issue 8)
    "addon.scopes.title": "許可が必要です",
    "addon.scopes.missing": (
        "SendGuardが求める権限の一部しか許可されていません。次の権限がないと、"
        "この操作はできません:"),
    "addon.scopes.scope.gmail.addons.execute": "Gmailのアドオンとして動作する",
    "addon.scopes.scope.gmail.addons.current.action.compose": (
        "作成中のメールの宛先を変更する（Bccへの移動）"),
    "addon.scopes.scope.gmail.addons.current.message.metadata": "作成中のメールの宛先を見る",
    "addon.scopes.scope.gmail.compose": "保存された下書きをすべて読み、送信する",
    "addon.scopes.scope.userinfo.email": "作成しているアカウント（差出人）を知る",
    "addon.scopes.scope.script.locale": "カードをあなたの言語とタイムゾーンで表示する",
    "addon.scopes.nothing_else": "許可されるまで、何も読み取らず、何も送信しません。",
    "addon.button.grant": "アクセスを許可",
    "addon.scopes.granted": "ありがとうございます。必要な権限が許可されました。",
    "addon.draft.candidate.saved": "{at} 保存",
    "addon.draft.candidate.fields": "宛先: {to}",
    "addon.draft.candidate.cc": "Cc: {cc}",
    "addon.draft.candidate.bcc": "Bcc: {bcc}",
    "addon.draft.candidate.none": "（なし）",
    "addon.confirm.fix": "ここで宛先をBccに移してから、もう一度確認してください:",
    "addon.fixed.moved": "{n}件のアドレスをBccに移しました。以下は新しい宛先での確認結果です。",
    "addon.package.line.subject": "{subject}",
    "addon.package.line.to": "宛先 {to} · {zip_name}",
    "addon.package.state.released_unconfirmed": (
        "解除済みですが、メールの送信が確認できていません。確認できるまで通知は送られません。"
        "メールが送られていない場合は取り消してください。"),
    "addon.error.sent_unrecorded": (
        "メールは送信されましたが、SendGuardが今は記録できませんでした。次にSendGuardを"
        "開いたときに記録されます。もう一度送信しないでください。"),
    "addon.already_unconfirmed": (
        "この下書きは、Gmailが完了を確認できなかった送信のあと下書きから消えています。"
        "送信された可能性が高いので「送信済み」を確認してください。再送信はしていません。"),
}
