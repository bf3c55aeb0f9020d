"""A Gmail-like compose page that drives the real add-on endpoints: development only.

``GET /dev/`` shows To/Cc/Bcc, subject, body and attachments next to a side panel that
renders the add-on's card JSON and runs its buttons. The page acts as Gmail does: it calls
``/addon/*`` with a proper event object and freshly minted ID tokens (from the local issuer
of ``sendguard dev``), applies ``updateDraftActionMarkup`` to the compose fields, and
autosaves the compose window as a real MIME draft in the local Gmail emulator, so "Check &
send" finds it and really sends it there. ``init_app`` registers nothing in production.
"""

from __future__ import annotations

import base64
import binascii
import logging
from email.message import EmailMessage
from email.policy import default as mail_policy
from typing import Any

from flask import Blueprint, Flask, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from service.devtools.devserver import DevContext, context
from service.errors import GmailClientError, GmailError

log = logging.getLogger(__name__)

MAX_DRAFT_REQUEST = 48 * 1024 * 1024     # 35 MB of attachments as base64 JSON
MAX_ATTACHMENTS = 50

bp = Blueprint("devsim", __name__, url_prefix="/dev", template_folder="templates",
               static_folder="static", static_url_path="/static")


def init_app(app: Flask) -> None:
    """Register the simulator unless the app runs in production."""
    config = app.extensions["sendguard"].config
    if config.production:
        return
    app.register_blueprint(bp)


def _ctx() -> DevContext:
    ctx = context(current_app)
    if ctx is None:
        abort(404)
    return ctx


@bp.get("/")
def page() -> ResponseReturnValue:
    ctx = context(current_app)
    return render_template("simulator.html", ready=ctx is not None,
                           user=ctx.user_email if ctx else "")


@bp.get("/api/session")
def session() -> ResponseReturnValue:
    """The user and fresh tokens, as Gmail would attach them to the next add-on call."""
    ctx = _ctx()
    return jsonify(email=ctx.user_email, **ctx.tokens()), 200, {"Cache-Control": "no-store"}


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
        return jsonify(error="Gmail emulator refused the draft"), 502
    return jsonify(draftId=ref.draft_id, threadId=ref.thread_id)


@bp.get("/api/sent")
def sent() -> ResponseReturnValue:
    """What the emulator has sent for the dev user, newest first (bodies left out)."""
    ctx = _ctx()
    items = [s.to_json() for s in ctx.emulator.sent(ctx.user_email)] if ctx.emulator else []
    return jsonify(sent=list(reversed(items)))
