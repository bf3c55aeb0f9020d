#!/usr/bin/env bash
# Prints the Google Admin console steps for SendGuard's content compliance rule (SPEC 10.5).
# Called by `deploy/deploy.sh --print-gmail-rules`; calls no API (Google offers none for
# these rules). Arguments: MODE OU LANG AUDIT_ADDRESS REVIEWERS_GROUP (empty = default).
# Menu and field names follow Google's help pages (support.google.com/a/answer/1346934,
# answer/6104172) as the Admin console shows them in English and Japanese.
set -euo pipefail

MODE="${1:-report}" OU="${2:-}" LANG_ARG="${3:-}" AUDIT="${4:-}" REVIEWERS="${5:-}"
die() { printf 'deploy.sh: %s\n' "$*" >&2; exit 2; }

case "$MODE" in report|quarantine|reject) ;; *) die "--mode must be report, quarantine or reject";; esac
if [[ -z "$LANG_ARG" ]]; then
  case "${LC_ALL:-${LC_MESSAGES:-${LANG:-}}}" in ja*) LANG_ARG=ja ;; *) LANG_ARG=en ;; esac
fi
case "$LANG_ARG" in ja|en) ;; *) die "--lang must be ja or en" ;; esac
[[ -z "$AUDIT" || "$AUDIT" =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]] \
  || die "--audit-address: not an e-mail address: $AUDIT"
[[ -z "$REVIEWERS" || "$REVIEWERS" =~ ^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$ ]] \
  || die "--reviewers: not a group address: $REVIEWERS"
[[ "$OU" != *$'\n'* ]] || die "--ou: one organisational unit path"

RULE="SendGuard – unchecked outbound"
QUARANTINE="SendGuard – unchecked"
MATCH="X-SendGuard-Checked: v1;"
NOTICE_EN="This message was NOT sent: your organisation sends mail only after SendGuard's check. Open the draft again and use SendGuard › Check & send (or Encrypt & send) instead of Gmail's Send button."
NOTICE_JA="このメールは送信されていません。この組織では SendGuard の確認を経たメールだけが送信されます。下書きを開き直し、Gmail の［送信］ではなく SendGuard の［確認して送信］（または［暗号化して送信］）を使ってください。"

if [[ "$LANG_ARG" == ja ]]; then
  OU_TEXT="${OU:-最上位の組織部門（組織全体）}"
  AUDIT_TEXT="${AUDIT:-sendguard-audit@（組織のドメイン）}"
  REVIEWERS_TEXT="${REVIEWERS:-sendguard-reviewers@（組織のドメイン）}"
else
  OU_TEXT="${OU:-the top-level organisational unit (the whole organisation)}"
  AUDIT_TEXT="${AUDIT:-sendguard-audit@YOUR-DOMAIN}"
  REVIEWERS_TEXT="${REVIEWERS:-sendguard-reviewers@YOUR-DOMAIN}"
fi

en() {
  cat <<TXT
SendGuard – Gmail content compliance rule, mode: $MODE
Organisational unit: $OU_TEXT

No API call: Google offers none for these rules. Sign in to the Google Admin console
(admin.google.com) as a super administrator and follow these steps. A changed rule can
take up to 24 hours to apply to everyone.
TXT
  if [[ "$MODE" == quarantine ]]; then
    cat <<TXT

Step 0. Create the quarantine (once)
  1. Menu > Apps > Google Workspace > Gmail > Manage quarantines.
  2. Click "Add quarantine".
  3. Name: $QUARANTINE
     Description: Outbound mail sent without SendGuard's Check & send
  4. Quarantine reviewers group: $REVIEWERS_TEXT
  5. Outbound denial consequence: "Send the default reject message" (the sender learns
     that a message the reviewers denied was not delivered).
  6. Optional: tick "Notify periodically when messages are quarantined".
  7. Click "Save".
TXT
  fi
  cat <<TXT

Step 1. Open the setting
  1. Menu > Apps > Google Workspace > Gmail > Compliance.
  2. On the left, select the organisational unit: $OU_TEXT
  3. Point to "Content compliance" and click "Configure" (or "Add another rule").
  4. Description (the rule's name): $RULE

Step 2. "1. Email messages to affect"
  Tick "Outbound" only. Leave "Inbound", "Internal - sending" and "Internal - receiving"
  unticked: mail between colleagues is not held up.

Step 3. "2. Add expressions that describe the content you want to search for in each message"
  1. Choose "If ANY of the following match the message".
  2. Click "Add". Choose "Advanced content match".
       Location:   Full headers
       Match type: Not contains text
       Content:    $MATCH
  3. Click "Save".

Step 4. "3. If the above expressions match, do the following"
TXT
  case "$MODE" in
    report) cat <<TXT
  1. Choose "Modify message" (the message is still delivered).
  2. Headers: tick "Add custom headers", click "Add":
       Header key:   X-SendGuard-Bypass
       Header value: 1
     Click "Save".
  3. Also deliver to: tick "Add more recipients", click "Add", choose "Basic" and enter
       $AUDIT_TEXT
     Click "Save". That mailbox receives a copy of every unchecked message.
TXT
    ;;
    quarantine) cat <<TXT
  1. Choose "Quarantine message" and select the quarantine "$QUARANTINE".
  2. Tick "Notify sender when message is quarantined (onward delivery only)".
  The message stays in the sender's Sent folder but is not delivered until a reviewer
  of $REVIEWERS_TEXT releases it.
TXT
    ;;
    reject) cat <<TXT
  1. Choose "Reject message".
  2. Tick "Customize rejection notice" and enter:
       $NOTICE_EN
  The sender receives this notice in their inbox; nothing is delivered.
TXT
    ;;
  esac
  cat <<TXT

Step 5. Save
  Click "Save" at the bottom of the dialog ("Add setting" on a first rule).

Then check it (pilot)
  - Gmail's own Send on a test message to an outside address you own:
TXT
  case "$MODE" in
    report) printf '    the copy reaches %s with "X-SendGuard-Bypass: 1"; the recipient gets it.\n' "$AUDIT_TEXT" ;;
    quarantine) printf '    it appears in the admin quarantine "%s", not at the recipient.\n' "$QUARANTINE" ;;
    reject) printf '    the sender gets the rejection notice above; the recipient gets nothing.\n' ;;
  esac
  cat <<TXT
  - SendGuard › Check & send on another test message: delivered, with one header
    "X-SendGuard-Checked: v1; …" (Show original at the recipient).
  - sendguard audit bypasses EXPORT.mbox  (a Vault export or the audit mailbox) lists
    who still sends without SendGuard.
Roll out per organisational unit: report first, then quarantine, then reject
(docs/admin-guide.md, "Checks nobody skips by accident").
TXT
}

ja() {
  cat <<TXT
SendGuard – Gmail コンテンツ コンプライアンス ルール（モード: $MODE）
組織部門: $OU_TEXT

API は呼び出しません（このルールを設定する API を Google は提供していません）。特権管理者として
Google 管理コンソール（admin.google.com）にログインし、次の手順で設定してください。ルールの変更が
全員に反映されるまで最長 24 時間かかることがあります。
TXT
  if [[ "$MODE" == quarantine ]]; then
    cat <<TXT

手順 0. 検疫を作成する（初回のみ）
  1. メニュー > [アプリ] > [Google Workspace] > [Gmail] > [検疫の管理]
  2. [検疫を追加] をクリックします。
  3. 名前: $QUARANTINE
     説明: SendGuard の確認を経ずに送信された社外宛てメール
  4. 検疫の審査担当者グループ: $REVIEWERS_TEXT
  5. 送信メールの拒否の結果: [デフォルトの拒否メッセージを送信する]
     （審査担当者が拒否したとき、配信されなかったことが送信者に伝わります）
  6. 任意: [メールの検疫時に定期的に通知する] をオンにします。
  7. [保存] をクリックします。
TXT
  fi
  cat <<TXT

手順 1. 設定を開く
  1. メニュー > [アプリ] > [Google Workspace] > [Gmail] > [コンプライアンス]
  2. 左側で組織部門を選択します: $OU_TEXT
  3. [コンテンツ コンプライアンス] にカーソルを合わせ、[設定] （または [別のルールを追加]）をクリックします。
  4. 説明（ルールの名前）: $RULE

手順 2. 「1. 影響を受けるメール」
  [送信] のみをオンにします。[受信]、[内部 - 送信]、[内部 - 受信] はオフのままにします
  （社内どうしのメールは止めません）。

手順 3. 「2. 各メッセージで検索するコンテンツを記述する表現を追加します」
  1. [次のいずれかがメッセージに一致する場合] を選択します。
  2. [追加] をクリックし、[高度なコンテンツ マッチ] を選択します。
       場所:         ヘッダー全体
       一致タイプ:   テキストを含まない
       コンテンツ:   $MATCH
  3. [保存] をクリックします。

手順 4. 「3. 上記の表現が一致する場合は、次の処理を行います」
TXT
  case "$MODE" in
    report) cat <<TXT
  1. [メッセージを変更] を選択します（メールは配信されます）。
  2. ヘッダー: [カスタム ヘッダーを追加] をオンにし、[追加] をクリックします。
       ヘッダーキー: X-SendGuard-Bypass
       ヘッダー値:   1
     [保存] をクリックします。
  3. 追加の配信先: [受信者を追加] をオンにし、[追加] をクリックして [基本] を選び、次を入力します。
       $AUDIT_TEXT
     [保存] をクリックします。確認を経ていないメールのコピーがこのメールボックスに届きます。
TXT
    ;;
    quarantine) cat <<TXT
  1. [メッセージを検疫] を選択し、検疫「$QUARANTINE」を選びます。
  2. [メールが検疫されたときに送信者に通知する（配信時のみ）] をオンにします。
  メールは送信者の [送信済み] に残りますが、$REVIEWERS_TEXT の審査担当者が
  解放するまで配信されません。
TXT
    ;;
    reject) cat <<TXT
  1. [メッセージを拒否] を選択します。
  2. [拒否通知をカスタマイズ] をオンにし、次の文を入力します。
       $NOTICE_JA
  送信者の受信トレイにこの通知が届き、メールは配信されません。
TXT
    ;;
  esac
  cat <<TXT

手順 5. 保存する
  ダイアログ下部の [保存]（最初のルールでは [設定を追加]）をクリックします。

確認（パイロット）
  - Gmail の [送信] で、自分の社外アドレス宛てにテストメールを送ります:
TXT
  case "$MODE" in
    report) printf '    %s に「X-SendGuard-Bypass: 1」付きのコピーが届き、宛先にも配信されること。\n' "$AUDIT_TEXT" ;;
    quarantine) printf '    管理者検疫「%s」に入り、宛先には届かないこと。\n' "$QUARANTINE" ;;
    reject) printf '    送信者に上記の拒否通知が届き、宛先には何も届かないこと。\n' ;;
  esac
  cat <<TXT
  - 別のテストメールを SendGuard の［確認して送信］で送ります: 配信され、受信側の
    「メッセージのソースを表示」でヘッダー「X-SendGuard-Checked: v1; …」が 1 つだけあること。
  - sendguard audit bypasses EXPORT.mbox（Vault のエクスポートまたは監査用メールボックス）で、
    SendGuard を使わずに送信している人を確認します。
組織部門ごとに、report → quarantine → reject の順に展開してください
（docs/admin-guide.ja.md「確認の抜け道をふさぐ」）。
TXT
}

"$LANG_ARG"
