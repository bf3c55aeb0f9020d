"""A Gmail-like compose page that drives the real add-on endpoints: development only.

``GET /dev/`` shows To/Cc/Bcc, subject, body and attachments next to a side panel that
renders the add-on's card JSON and runs its buttons. The page acts as Gmail does: it calls
``/addon/*`` with a proper event object and freshly minted ID tokens (from the local issuer
of ``sendguard dev``), applies ``updateDraftActionMarkup`` to the compose fields, and
autosaves the compose window as a real MIME draft in the local Gmail emulator, so "Check &
send" finds it and really sends it there. ``init_app`` registers nothing in production.

The page's "Mail sink" panel lists what the service mailed (key notices, one-time codes,
retrieval notices: the ``.eml`` files of the development sink under ``var/mail``) and shows
each as text with its links clickable, so the whole key route runs in one browser:
notice, ``/k/`` page, code, password.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as mail_policy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from markupsafe import Markup, escape

from service.addon.localtime import duration
from service.devtools.devcontext import RELEASE_EVERY, DevContext, context
from service.devtools.gmail_emulator.mailbox import MAX_MESSAGE_BYTES
from service.errors import GmailClientError, GmailError
from service.gmail.headers import header_values, raw_headers
from service.i18n import translator, using
from service.services import services

if TYPE_CHECKING:
    from service.policy.policyfile import Policy

log = logging.getLogger(__name__)

MAX_DRAFT_REQUEST = 48 * 1024 * 1024     # 35 MB of attachments as base64 JSON
MAX_ATTACHMENTS = 50
MAILS_LISTED = 50
SINK_NAME = re.compile(r"^\d{8}T\d{12}-[0-9a-f]{8}\.eml$")   # SinkMailer's file names
LINK = re.compile(r"https?://[^\s<>\"']+")

bp = Blueprint("devsim", __name__, url_prefix="/dev", template_folder="templates",
               static_folder="static", static_url_path="/static")


def init_app(app: Flask) -> None:
    """Register the simulator unless the app runs in production; in development ``/``
    leads to it (a newcomer opening the bare URL finds the simulator, not a 404)."""
    config = app.extensions["sendguard"].config
    if config.production:
        return
    app.register_blueprint(bp)
    app.add_url_rule("/", "dev_root", lambda: redirect(url_for("devsim.page"), code=302))


def _ctx() -> DevContext:
    ctx = context(current_app)
    if ctx is None:
        abort(404)
    return ctx


@bp.get("/")
def page() -> ResponseReturnValue:
    ctx = context(current_app)
    if ctx is None:
        return render_template("simulator.html", ready=False, user="")
    every = current_app.extensions.get(RELEASE_EVERY)
    info = {loc: release_info(services().policy, every, loc) for loc in ("en", "ja")}
    help_ = {loc: sink_help(loc) for loc in ("en", "ja")}
    return render_template("simulator.html", ready=True, user=ctx.user_email,
                           release_info=info, sink_help=help_, sink=_sink_dir())


def release_info(policy: Policy, interval: float | None, locale: str = "en") -> str:
    """One sentence on when passwords go out here, so a newcomer knows what to wait for
    (the page holds it in both languages: its language switch works without a reload)."""
    tr = translator(locale)
    source = policy.source or tr.gettext("dev.release.builtin")
    if policy.release_mode == "manual":
        release = tr.gettext("dev.release.manual")
    else:
        with using(locale):
            delay = duration(policy.release_delay)
        release = (tr.gettext("dev.release.delay_sender_only", delay=delay, source=source)
                   if policy.release_mode == "sender_only"
                   else tr.gettext("dev.release.delay", delay=delay, source=source))
    if interval:
        return tr.gettext("dev.release.with_loop", release=release,
                          interval=format(interval, "g"))
    return tr.gettext("dev.release.without_loop", release=release)


def sink_help(locale: str) -> Markup:
    """Where key mails land; the catalogue's text escaped, the ``/k/`` path as code."""
    slot = "\x00path\x00"
    text = escape(translator(locale).gettext("dev.sink_help", path=slot))
    return text.replace(slot, Markup("<code>/k/</code>"))


@bp.get("/api/session")
def session() -> ResponseReturnValue:
    """The user and fresh tokens, as Gmail would attach them to the next add-on call."""
    from service.addon.scopes import ALL_SCOPES  # the user granted everything asked

    ctx = _ctx()
    return jsonify(email=ctx.user_email, scopes=list(ALL_SCOPES), **ctx.tokens()), 200, {
        "Cache-Control": "no-store"}


def _entries(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [v.strip() for v in value if isinstance(v, str) and v.strip()][:20_000]


def build_mime(sender: str, data: dict[str, Any]) -> bytes:
    """The compose window as Gmail saves it: headers, a text body, attachments."""
    msg = EmailMessage(policy=mail_policy.clone(cte_type="7bit"))
    msg["From"] = sender
    for name in ("to", "cc", "bcc"):
        entries = _entries(data.get(name))
        if entries:
            msg[name.capitalize()] = ", ".join(e.replace("\r", " ").replace("\n", " ")
                                               for e in entries)
    subject = data.get("subject")
    msg["Subject"] = subject.replace("\r", " ").replace("\n", " ") if isinstance(
        subject, str) else ""
    body = data.get("body")
    msg.set_content(body if isinstance(body, str) else "")
    attachments = data.get("attachments")
    for att in (attachments if isinstance(attachments, list) else [])[:MAX_ATTACHMENTS]:
        if not isinstance(att, dict):
            continue
        try:
            payload = base64.b64decode(str(att.get("data", "")), validate=True)
        except (binascii.Error, ValueError):
            abort(400, "attachment data must be base64")
        ctype = str(att.get("type") or "application/octet-stream")
        maintype, _, subtype = ctype.partition("/")
        if not maintype or not subtype or "\n" in ctype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(payload, maintype=maintype, subtype=subtype,
                           filename=str(att.get("name") or "attachment"))
    return msg.as_bytes()


@bp.post("/api/draft")
def save_draft() -> ResponseReturnValue:
    """Gmail's autosave: create the draft, or replace it; ``gone`` once it was sent."""
    from service.gmail.client import ApiGmailClient

    ctx = _ctx()
    request.max_content_length = MAX_DRAFT_REQUEST
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, "expected a JSON object")
    raw = build_mime(ctx.user_email, data)
    lang = "ja" if data.get("locale") == "ja" else "en"
    if len(raw) > MAX_MESSAGE_BYTES:
        return jsonify(error=translator(lang).gettext("dev.too_large",
                                                      mb=len(raw) / 2**20)), 413
    draft_id = data.get("draftId")
    try:
        with ApiGmailClient(ctx.oauth_token, ctx.gmail_endpoint, retries=2) as client:
            if isinstance(draft_id, str) and draft_id:
                try:
                    ref = client.update_draft(draft_id, raw, None)
                except GmailClientError as exc:
                    if exc.http_status != 404:
                        raise
                    return jsonify(gone=True)
            else:
                ref = client.create_draft(raw)
    except GmailError as exc:
        log.warning("autosave failed: %s", type(exc).__name__)
        reason = exc.public_message or type(exc).__name__
        return jsonify(error=("Gmail エミュレーターが下書きを拒否しました: " if lang == "ja"
                              else "The Gmail emulator refused the draft: ") + reason), 502
    return jsonify(draftId=ref.draft_id, threadId=ref.thread_id)


@bp.post("/api/gmail-send")
def gmail_send() -> ResponseReturnValue:
    """Gmail's own Send button: the saved draft goes out as it is, without SendGuard; the
    emulator's outbound rules then decide (reject with a notice, quarantine, report)."""
    from service.gmail.client import ApiGmailClient

    ctx = _ctx()
    data = request.get_json(silent=True)
    draft_id = data.get("draftId") if isinstance(data, dict) else None
    if not isinstance(draft_id, str) or not draft_id:
        abort(400, "expected {\"draftId\": ...}: save the draft first")
    try:
        with ApiGmailClient(ctx.oauth_token, ctx.gmail_endpoint, retries=2) as client:
            ref = client.send_draft(draft_id)
    except GmailClientError as exc:
        if exc.http_status in (400, 404):
            return jsonify(error=f"Gmail refused the send ({exc.http_status})"), 409
        raise
    except GmailError as exc:
        log.warning("Gmail send failed: %s", type(exc).__name__)
        return jsonify(error="Gmail emulator did not answer"), 502
    out = _outbound_of(ctx, ref.message_id)
    return jsonify(sent=True, **out)


def _outbound_of(ctx: DevContext, message_id: str) -> dict[str, Any]:
    """What the emulator's outbound rules did with one sent message, and the notice text."""
    records = [o for o in (ctx.emulator.outbound(ctx.user_email) if ctx.emulator else [])
               if o.id == message_id]
    if not records:
        return {"disposition": "delivered", "notice": None, "rule": None}
    info = records[-1].to_json()
    notice = None
    if records[-1].outcome.notice is not None:
        msg = message_from_bytes(records[-1].outcome.notice, policy=mail_policy)
        body = msg.get_body(("plain",)) if isinstance(msg, EmailMessage) else None
        notice = body.get_content() if body is not None else ""
    return {"disposition": info["disposition"], "notice": notice, "rule": info["rule"]}


@bp.get("/api/sent")
def sent() -> ResponseReturnValue:
    """What the emulator has sent for the dev user, newest first (bodies left out), with
    what its outbound rules did (delivered, rejected, quarantined) and the stamp."""
    ctx = _ctx()
    sent_mail = ctx.emulator.sent(ctx.user_email) if ctx.emulator else []
    items = [{**s.to_json(), "attachments": _attachment_names(s.raw),
              "delivery": _outbound_of(ctx, s.id)["disposition"],
              "stamped": bool(header_values(raw_headers(s.raw), "X-SendGuard-Checked"))}
             for s in sent_mail]
    return jsonify(sent=list(reversed(items)))


def _attachments(raw: bytes) -> list[EmailMessage]:
    msg = message_from_bytes(raw, policy=mail_policy)
    if not isinstance(msg, EmailMessage):
        return []
    return [p for p in msg.iter_attachments() if isinstance(p, EmailMessage)]


def _attachment_names(raw: bytes) -> list[str]:
    return [str(p.get_filename() or "?") for p in _attachments(raw)]


@bp.get("/api/sent/<message_id>/attachments/<int:index>")
def sent_attachment(message_id: str, index: int) -> ResponseReturnValue:
    """One attachment of a sent message, as the recipient would save it (the encrypted
    ZIP of an Encrypt & send, to open with the password from the key page)."""
    from urllib.parse import quote

    ctx = _ctx()
    found = [s for s in (ctx.emulator.sent(ctx.user_email) if ctx.emulator else [])
             if s.id == message_id]
    if not found:
        abort(404)
    parts = _attachments(found[0].raw)
    if not 0 <= index < len(parts):
        abort(404)
    part = parts[index]
    data = part.get_payload(decode=True)
    name = str(part.get_filename() or "attachment")
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                         for c in name)
    return Response(data if isinstance(data, bytes) else b"", mimetype=part.get_content_type(),
                    headers={"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                             f"filename*=UTF-8''{quote(name)}",
                             "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


# ----------------------------------------------------------------------------- mail sink


def _sink_dir() -> Path | None:
    """Where the development mailer writes, or None when mail goes elsewhere (SMTP)."""
    from service.mailer import SinkMailer

    mailer = services().mailer
    return mailer.directory if isinstance(mailer, SinkMailer) else None


def _read_mail(path: Path, headers_only: bool = True) -> EmailMessage:
    with path.open("rb") as f:
        data = f.read(64 * 1024 if headers_only else 10 * 1024 * 1024)
    return message_from_bytes(data, policy=mail_policy)


def _mail_file(name: str) -> Path:
    sink = _sink_dir()
    if sink is None or not SINK_NAME.match(name):
        abort(404)
    path = sink / name
    if not path.is_file():
        abort(404)
    return path


@bp.get("/api/mail")
def mails() -> ResponseReturnValue:
    """The sink's mails, newest first: subject, recipient and time (no bodies)."""
    _ctx()
    sink = _sink_dir()
    if sink is None:
        return jsonify(sink=None, mails=[]), 200, {"Cache-Control": "no-store"}
    names = sorted((p.name for p in sink.glob("*.eml") if SINK_NAME.match(p.name)),
                   reverse=True)[:MAILS_LISTED]
    items = []
    for name in names:
        try:
            msg = _read_mail(sink / name)
        except OSError:
            continue
        items.append({"id": name, "subject": str(msg.get("Subject", "")),
                      "to": str(msg.get("To", "")), "date": str(msg.get("Date", ""))})
    return jsonify(sink=str(sink), mails=items), 200, {"Cache-Control": "no-store"}


def linked(text: str) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, is_link) so the template can make links clickable."""
    out: list[tuple[str, bool]] = []
    last = 0
    for m in LINK.finditer(text):
        url = m.group(0).rstrip(".,;:)")
        out.append((text[last:m.start()], False))
        out.append((url, True))
        last = m.start() + len(url)
    out.append((text[last:], False))
    return [(piece, is_link) for piece, is_link in out if piece]


@bp.get("/mail/<name>")
def mail(name: str) -> ResponseReturnValue:
    """One sink mail as text, links clickable (development only: it shows links and codes)."""
    _ctx()
    msg = _read_mail(_mail_file(name), headers_only=False)
    part = msg.get_body(preferencelist=("plain",))
    body = part.get_content() if isinstance(part, EmailMessage) else ""
    headers = [(h, str(msg.get(h, ""))) for h in ("From", "To", "Subject", "Date")]
    return render_template("mail.html", name=name, headers=headers,
                           pieces=linked(str(body))), 200, {"Cache-Control": "no-store"}
