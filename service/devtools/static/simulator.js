// SendGuard compose simulator: plays Gmail's part for the add-on, locally.
// It renders the card JSON subset SendGuard produces, calls the add-on endpoints with an
// event object and fresh ID tokens, applies updateDraftActionMarkup to the compose fields
// and autosaves the compose window as a draft in the local Gmail emulator. The mail sink
// panel lists what the service mailed (key notices, one-time codes), refreshed every few
// seconds, so a released password's notice shows up by itself.
"use strict";

const $ = (id) => document.getElementById(id);
const FIELDS = ["to", "cc", "bcc"];
const SENT_CARDS = new Set(["sent", "encrypted"]);   // the draft has left
const MAIL_EVERY_MS = 3000;
// The simulator's own labels, in the language of its locale switch (the add-on's cards
// come from the service in the same language).
const LABELS = {
  en: {
    tagline: "compose simulator (local Gmail emulator)", locale: "locale",
    new_message: "New message", to: "To", cc: "Cc", bcc: "Bcc", subject: "Subject",
    to_placeholder: "comma-separated addresses",
    no_send: "Gmail's own Send button is not here: use “Check & send”.",
    sent: "Sent (Gmail emulator)", refresh: "refresh", attachments: "Attachments",
    sink: "Mail sink (what SendGuard mailed)", time: "Time", view: "view",
    no_sink: "Mail goes to SENDGUARD_MAILER, not to the local sink.",
    saving: "Saving…", saved: "Draft saved", not_saved: "Not saved", state_sent: "Sent",
    no_subject: "(no subject)", download: "download",
    save_failed: "Not saved: the draft could not be saved ({status}).",
  },
  ja: {
    tagline: "作成画面シミュレーター（ローカルの Gmail エミュレーター）", locale: "言語",
    new_message: "新規メッセージ", to: "宛先", cc: "Cc", bcc: "Bcc", subject: "件名",
    to_placeholder: "アドレスをカンマ区切りで",
    no_send: "Gmail 本来の送信ボタンはありません:「確認して送信」を使ってください。",
    sent: "送信済み（Gmail エミュレーター）", refresh: "更新", attachments: "添付ファイル",
    sink: "メールの受け皿（SendGuard が送ったメール）", time: "時刻", view: "表示",
    no_sink: "メールはローカルの受け皿ではなく SENDGUARD_MAILER に送られます。",
    saving: "保存中…", saved: "下書きを保存しました", not_saved: "保存されていません",
    state_sent: "送信済み", no_subject: "（件名なし）", download: "ダウンロード",
    save_failed: "保存できません: 下書きを保存できませんでした（{status}）。",
  },
};

function label(key) {
  return (LABELS[locale()] || LABELS.en)[key] || LABELS.en[key] || key;
}

function applyLabels() {
  document.documentElement.lang = locale();
  for (const node of document.querySelectorAll("[data-i18n]")) {
    node.textContent = label(node.dataset.i18n);
  }
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = label(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll("[data-lang]")) {
    node.hidden = node.dataset.lang !== locale();
  }
}
const state = {
  cards: [],            // the side panel's card stack (last = shown)
  draftId: null,
  attachments: [],      // {name, type, data(base64)}
  saveTimer: null,
  saving: Promise.resolve(),
  sent: false,
};

// ---- compose fields ---------------------------------------------------------------------

function entries(id) {
  // One entry per comma or line: what Gmail hands the add-on as separate recipients.
  return $(id).value.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

function setEntries(id, list) {
  $(id).value = list.join(", ");
}

function locale() {
  return $("locale").value;
}

function banner(text, error) {
  const b = $("banner");
  b.textContent = text;
  b.hidden = !text;
  b.classList.toggle("error", !!error);
}

// ---- autosave (Gmail saves drafts as you type) ------------------------------------------

function scheduleSave() {
  if (state.sent) return;
  clearTimeout(state.saveTimer);
  $("save-state").textContent = "…";
  state.saveTimer = setTimeout(() => { state.saving = save(); }, 800);
}

async function flushSave() {
  if (state.saveTimer) {
    clearTimeout(state.saveTimer);
    state.saveTimer = null;
    state.saving = save();
  }
  await state.saving;
}

async function save() {
  state.saveTimer = null;
  if (state.sent) return;
  const body = {
    draftId: state.draftId, subject: $("subject").value, body: $("body").value,
    attachments: state.attachments, locale: locale(),
  };
  for (const f of FIELDS) body[f] = entries(f);
  $("save-state").textContent = label("saving");
  const resp = await fetch("api/draft", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    // Say why (a 30 MB attachment is over Gmail's size), never just "Not saved".
    $("save-state").textContent = label("not_saved");
    banner(data.error || label("save_failed").replace("{status}", String(resp.status)), true);
    return;
  }
  if ($("banner").classList.contains("error")) banner("");
  if (data.gone) {          // sent (or discarded) meanwhile: Gmail would start a new draft
    state.draftId = null;
    return save();
  }
  state.draftId = data.draftId;
  $("save-state").textContent = label("saved");
}

// ---- talking to the add-on like Gmail ------------------------------------------------------

function timeZone() {
  // As Gmail sends it: the user's zone id and its current offset from UTC in ms.
  const id = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  return { id, offset: -new Date().getTimezoneOffset() * 60000 };
}

async function event(extra) {
  const session = await (await fetch("api/session", { cache: "no-store" })).json();
  return {
    token: session.systemIdToken,
    body: {
      commonEventObject: {
        hostApp: "GMAIL", platform: "WEB", userLocale: locale(),
        timeZone: timeZone(),
        formInputs: extra.formInputs || {}, parameters: extra.parameters || {},
      },
      authorizationEventObject: {
        systemIdToken: session.systemIdToken, userIdToken: session.userIdToken,
        userOAuthToken: session.userOAuthToken, authorizedScopes: session.scopes || [],
      },
      // As Google sends it: recipients only (no subject; a reply adds threadId).
      gmail: {
        toRecipients: entries("to"), ccRecipients: entries("cc"),
        bccRecipients: entries("bcc"),
      },
    },
  };
}

async function call(url, extra) {
  await flushSave();
  const ev = await event(extra || {});
  const path = new URL(url, location.href).pathname;   // the endpoint, on this origin
  const resp = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: "Bearer " + ev.token },
    body: JSON.stringify(ev.body),
  });
  if (resp.status === 401) {
    banner("401: the add-on refused the request (no card).", true);
    return;
  }
  const data = await resp.json().catch(() => null);
  if (!resp.ok || !data) {
    banner(`HTTP ${resp.status} from ${path}`, true);
    return;
  }
  await handle(data);
}

async function handle(data) {
  if (data.requesting_google_scopes) {
    banner("Gmail would now ask you to grant: " +
      (data.requesting_google_scopes.scopes || ["all scopes"]).join(", "));
    return;
  }
  const ra = data.renderActions || data;
  const markup = ra.hostAppAction && ra.hostAppAction.gmailAction &&
    ra.hostAppAction.gmailAction.updateDraftActionMarkup;
  if (markup) applyDraftUpdate(markup);
  const action = ra.action || {};
  if (action.notification) banner(action.notification.text);
  for (const nav of action.navigations || []) {
    if (nav.pushCard) state.cards.push(nav.pushCard);
    if (nav.updateCard) state.cards[Math.max(0, state.cards.length - 1)] = nav.updateCard;
    if (nav.popCard && state.cards.length > 1) state.cards.pop();
    if (nav.popToRoot) state.cards.splice(1);
  }
  render();
  const top = state.cards[state.cards.length - 1];
  if (top && SENT_CARDS.has(top.name)) markSent();
  refreshSent();
  refreshMail();
}

function applyDraftUpdate(markup) {
  const map = {
    updateToRecipients: ["to", "toRecipients"], updateCcRecipients: ["cc", "ccRecipients"],
    updateBccRecipients: ["bcc", "bccRecipients"],
  };
  let changed = 0;
  for (const [key, [field, list]] of Object.entries(map)) {
    if (markup[key]) {
      setEntries(field, (markup[key][list] || []).map((r) => r.email));
      changed++;
    }
  }
  if (markup.updateSubject) $("subject").value = markup.updateSubject.subject || "";
  if (changed) {
    banner(`SendGuard updated the recipients: To ${entries("to").length}, ` +
      `Cc ${entries("cc").length}, Bcc ${entries("bcc").length}.`);
    state.saving = save();
  }
}

function markSent() {
  state.sent = true;
  state.draftId = null;
  $("compose").classList.add("sent-state");
  for (const id of [...FIELDS, "subject", "body"]) $(id).readOnly = true;
  $("save-state").textContent = label("state_sent");
  $("new-message").hidden = false;
}

function newMessage() {
  state.sent = false;
  state.draftId = null;
  state.attachments = [];
  $("compose").classList.remove("sent-state");
  for (const id of [...FIELDS, "subject", "body"]) {
    $(id).readOnly = false;
    $(id).value = "";
  }
  $("attachment-list").textContent = "";
  $("save-state").textContent = "";
  $("new-message").hidden = true;
  banner("");
  state.cards.splice(1);
  render();
}

// ---- card rendering (the JSON subset SendGuard uses) -----------------------------------------

const ALLOWED = new Set(["B", "I", "U", "BR", "FONT", "STRONG", "EM"]);

function safeHtml(html) {
  // Card text fields allow a little HTML; keep only harmless formatting tags.
  const tpl = document.createElement("template");
  tpl.innerHTML = String(html || "");
  const out = document.createDocumentFragment();
  const copy = (node, into) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) into.appendChild(document.createTextNode(child.data));
      else if (child.nodeType === Node.ELEMENT_NODE) {
        if (ALLOWED.has(child.tagName)) {
          const el = document.createElement(child.tagName === "FONT" ? "span" : child.tagName);
          copy(child, el);
          into.appendChild(el);
        } else copy(child, into);
      }
    }
  };
  copy(tpl.content, out);
  return out;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function button(b, primary) {
  const btn = el("button", "card-button" + (primary ? " primary" : ""), b.text || "");
  btn.disabled = !!b.disabled;
  const click = b.onClick || {};
  btn.addEventListener("click", async () => {
    if (click.action) {
      btn.disabled = true;
      try {
        await call(click.action.function, {
          formInputs: collectForm(),
          parameters: Object.fromEntries((click.action.parameters || []).map((p) => [p.key, p.value])),
        });
      } finally { btn.disabled = !!b.disabled; }
    } else if (click.openLink) window.open(click.openLink.url, "_blank", "noopener");
  });
  return btn;
}

function widget(w) {
  const box = el("div", "widget");
  if (w.textParagraph) box.appendChild(safeHtml(w.textParagraph.text));
  else if (w.decoratedText) {
    const d = w.decoratedText;
    box.classList.add("decorated");
    const texts = el("div", "texts");
    if (d.topLabel) texts.appendChild(el("div", "top")).appendChild(safeHtml(d.topLabel));
    texts.appendChild(el("div", "main")).appendChild(safeHtml(d.text));
    if (d.bottomLabel) texts.appendChild(el("div", "bottom")).appendChild(safeHtml(d.bottomLabel));
    box.appendChild(texts);
    if (d.button) box.appendChild(button(d.button));
  } else if (w.buttonList) {
    for (const b of w.buttonList.buttons || []) box.appendChild(button(b));
  } else if (w.selectionInput) {
    const s = w.selectionInput;
    box.classList.add("selection");
    box.dataset.name = s.name;
    if (s.label) box.appendChild(el("div", "label", s.label));
    for (const item of s.items || []) {
      const row = el("label", "item");
      const input = el("input");
      input.type = s.type === "RADIO_BUTTON" ? "radio" : "checkbox";
      input.name = s.name;
      input.value = item.value;
      input.checked = !!item.selected;
      row.appendChild(input);
      row.appendChild(el("span", "", item.text));
      box.appendChild(row);
    }
  } else if (w.textInput) {
    const ti = w.textInput;
    box.classList.add("textinput");
    box.appendChild(el("div", "label", ti.label || ""));
    const input = el(ti.type === "MULTIPLE_LINE" ? "textarea" : "input");
    input.name = ti.name;
    input.value = ti.value || "";
    if (ti.hintText) input.placeholder = ti.hintText;
    box.appendChild(input);
  } else if (w.divider) box.appendChild(el("hr"));
  return box;
}

function section(s) {
  const box = el("div", "card-section");
  if (s.header) box.appendChild(el("h3")).appendChild(safeHtml(s.header));
  const widgets = (s.widgets || []).map(widget);
  const shown = s.collapsible ? (s.uncollapsibleWidgetsCount || 0) : widgets.length;
  widgets.forEach((w, i) => { if (i >= shown) w.hidden = true; box.appendChild(w); });
  if (shown < widgets.length) {
    const more = el("button", "more", `Show ${widgets.length - shown} more`);
    more.addEventListener("click", () => { widgets.forEach((w) => { w.hidden = false; }); more.remove(); });
    box.appendChild(more);
  }
  return box;
}

function render() {
  const panel = $("panel");
  panel.textContent = "";
  const card = state.cards[state.cards.length - 1];
  if (!card) return;
  panel.dataset.card = card.name || "";
  if (card.header) {
    const h = el("div", "card-header");
    h.appendChild(el("h2", "", card.header.title || ""));
    if (card.header.subtitle) h.appendChild(el("div", "subtitle", card.header.subtitle));
    panel.appendChild(h);
  }
  for (const s of card.sections || []) panel.appendChild(section(s));
  if (card.fixedFooter) {
    const f = el("div", "footer");
    if (card.fixedFooter.primaryButton) f.appendChild(button(card.fixedFooter.primaryButton, true));
    if (card.fixedFooter.secondaryButton) f.appendChild(button(card.fixedFooter.secondaryButton));
    panel.appendChild(f);
  }
}

function collectForm() {
  // formInputs as Gmail sends them: {name: {stringInputs: {value: [...]}}}
  const out = {};
  for (const input of $("panel").querySelectorAll("input[name], textarea[name]")) {
    const list = (out[input.name] = out[input.name] || { stringInputs: { value: [] } });
    if (input.type === "checkbox" || input.type === "radio") {
      if (input.checked) list.stringInputs.value.push(input.value);
    } else list.stringInputs.value.push(input.value);
  }
  return out;
}

// ---- sent list -------------------------------------------------------------------------------

async function refreshSent() {
  const resp = await fetch("api/sent", { cache: "no-store" });
  if (!resp.ok) return;
  const { sent } = await resp.json();
  const tbody = $("sent-list").querySelector("tbody");
  tbody.textContent = "";
  const cell = (list) => {
    const all = (list || []).join(", ").split(/,\s*/).filter(Boolean);
    return `${all.length}: ${all.slice(0, 3).join(", ")}${all.length > 3 ? ", …" : ""}`;
  };
  for (const m of sent) {
    const tr = el("tr");
    tr.dataset.id = m.id;
    tr.appendChild(el("td", "", m.subject || label("no_subject")));
    for (const f of FIELDS) tr.appendChild(el("td", f, cell(m[f])));
    const files = tr.appendChild(el("td", "attachments"));
    (m.attachments || []).forEach((name, i) => {   // each one downloadable, as received
      if (i) files.appendChild(document.createTextNode(", "));
      const a = files.appendChild(el("a", "download", name));
      a.href = `api/sent/${encodeURIComponent(m.id)}/attachments/${i}`;
      a.download = name;
      a.title = label("download");
    });
    tbody.appendChild(tr);
  }
}

// ---- mail sink (development only) --------------------------------------------------------

async function refreshMail() {
  const table = $("mail-list");
  if (!table) return;
  const resp = await fetch("api/mail", { cache: "no-store" }).catch(() => null);
  if (!resp || !resp.ok) return;
  const { mails } = await resp.json();
  const tbody = table.querySelector("tbody");
  if (tbody.dataset.ids === mails.map((m) => m.id).join(",")) return;   // unchanged
  tbody.dataset.ids = mails.map((m) => m.id).join(",");
  tbody.textContent = "";
  for (const m of mails) {
    const tr = el("tr");
    tr.dataset.id = m.id;
    const when = new Date(m.date);
    tr.appendChild(el("td", "", isNaN(when) ? m.date : when.toLocaleTimeString()));
    tr.appendChild(el("td", "", m.to));
    tr.appendChild(el("td", "subject", m.subject));
    const link = el("a", "view", label("view"));
    link.href = "mail/" + encodeURIComponent(m.id);
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    tr.appendChild(el("td")).appendChild(link);
    tbody.appendChild(tr);
  }
}

// ---- wiring ----------------------------------------------------------------------------------

function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).split(",", 2)[1] || "");
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

async function onAttach() {
  for (const file of $("attach").files) {
    state.attachments.push({ name: file.name, type: file.type || "application/octet-stream",
      data: await readFile(file) });
    $("attachment-list").appendChild(el("li", "", `${file.name} (${file.size} bytes)`));
  }
  $("attach").value = "";
  scheduleSave();
}

function init() {
  const hl = new URLSearchParams(location.search).get("hl") ||
    (navigator.language || "en").slice(0, 2);
  $("locale").value = hl === "ja" ? "ja" : "en";
  applyLabels();
  for (const id of [...FIELDS, "subject", "body"]) $(id).addEventListener("input", scheduleSave);
  $("attach").addEventListener("change", onAttach);
  $("open-addon").addEventListener("click", async () => {
    state.cards.splice(1);
    await call("/addon/compose");
  });
  $("new-message").addEventListener("click", newMessage);
  $("refresh-sent").addEventListener("click", refreshSent);
  if ($("refresh-mail")) $("refresh-mail").addEventListener("click", refreshMail);
  refreshMail();
  setInterval(refreshMail, MAIL_EVERY_MS);
  $("locale").addEventListener("change", applyLabels);
  $("locale").addEventListener("change", () => call("/addon/homepage").then(() => state.cards.splice(0, state.cards.length - 1)).then(render));
  call("/addon/homepage");
}

init();
