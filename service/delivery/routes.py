"""HTTP for key delivery: the ``/k/<token>`` page and ``POST /tasks/release-due``.

The key page is server-rendered HTML in Japanese or English (``Accept-Language``, or the
``lang`` toggle). GET only shows; POST ``action=send_code`` mails a code, POST
``action=reveal`` checks one; each POST but a right code answers with a redirect to the GET
(Post/Redirect/Get), so Reload and Back never repeat an action. A right code shows the
password at once and sets a 10-minute session cookie (``session``) with which the page
shows it again (Reload, Back, the language switch) without a new code or another counted
reveal. A wrong
code leaves the visitor on the code form with the tries left; a link that works no more
says why and what to do (``ENDED_STATUS``); an unknown link says nothing more. Every
response under ``/k/`` (404 and 405 included) carries a strict CSP (a per-response nonce
for its one style and one script),
``Referrer-Policy: no-referrer`` (the token is in the URL), HSTS, ``nosniff``,
``frame-ancestors 'none'`` and ``Cache-Control: no-store``. Links in mails come from
``SENDGUARD_BASE_URL``; the page itself only posts back to its own URL.

``/tasks/release-due`` takes Cloud Scheduler's OIDC token: audience
``SENDGUARD_BASE_URL + "/tasks/release-due"`` (Scheduler's default, the target URL),
e-mail ``SENDGUARD_SCHEDULER_SERVICE_ACCOUNT``. Anything else is 401.
"""

from __future__ import annotations

import logging
import secrets
import threading
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from service.delivery import codes, csrf, session
from service.delivery.keypage import KeyPage, Revealed, Visit, mask
from service.delivery.release import base_url, release_tick
from service.delivery.when import format_clock, format_time, zone_named
from service.errors import AuthError, CodeRefusedError, LinkEndedError, SendGuardError
from service.i18n import N_, _, current_locale, translator
from service.mailer import MailerError
from service.request_locale import use_locale
from service.services import services

log = logging.getLogger(__name__)

bp = Blueprint("delivery", __name__, template_folder="templates")

TASK_PATH = "/tasks/release-due"
LOCALES = ("ja", "en")
_EXT = "sendguard.delivery"


@bp.before_request
def _language() -> None:
    """The key page's language: its switch (``?lang=``), else ``Accept-Language``."""
    use_locale(_locale())


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions[_EXT] = {"lock": threading.Lock(), "secret": None}


def _state() -> dict[str, Any]:
    state: dict[str, Any] = current_app.extensions[_EXT]
    return state


def _form_secret() -> bytes:
    state = _state()
    with state["lock"]:
        if state["secret"] is None:
            state["secret"] = csrf.server_secret(services().config)
        secret: bytes = state["secret"]
    return secret


def _page() -> KeyPage:
    sv = services()
    return KeyPage(sv.store, sv.mailer, sv.config, sv.keywrapper)


def _locale() -> str:
    chosen = request.values.get("lang", "")
    if chosen in LOCALES:
        return chosen
    best = request.accept_languages.best_match(LOCALES, default="en")
    return best if best in LOCALES else "en"


def _zone() -> tzinfo | None:
    """The sender's organisation's zone, when its policy names one."""
    try:
        return zone_named(services().policy.default_time_zone)
    except SendGuardError:
        return None


def _secure() -> bool:
    return base_url(services().config).startswith("https://")


def _nonce() -> str:
    return request.cookies.get(csrf.cookie_name(_secure()), "")


@bp.after_app_request
def _headers(resp: Response) -> Response:
    """On every answer under /k/: this blueprint's, a 404/405 of the router, a 500."""
    if request.blueprint != bp.name and not request.path.startswith("/k/"):
        return resp
    nonce = g.get("csp_nonce", "")
    inline = f"'nonce-{nonce}'" if nonce else "'none'"
    resp.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src {inline}; script-src {inline}; img-src 'none'; "
        "connect-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Pragma"] = "no-cache"
    resp.headers["Vary"] = "Accept-Language, Cookie"
    return resp


def _render(view: str, status: int = 200, token: str = "", **ctx: Any) -> Response:
    locale = current_locale()
    g.csp_nonce = secrets.token_urlsafe(16)
    fields: dict[str, str] = {}
    cookie = None
    if token:
        nonce = _nonce()
        if not nonce or len(nonce) > 128:
            nonce = cookie = csrf.new_nonce()
        fields["csrf"] = csrf.form_token(_form_secret(), token, nonce)
    other = "en" if locale == "ja" else "ja"
    html = render_template(
        "delivery/key_page.html", view=view, locale=locale, other=other,
        other_name=translator(other).gettext("delivery.page.lang_name"),
        ended=ENDED_TEXTS.get(ctx.get("reason", ""), ENDED_TEXTS["invalid"]),
        message_text=_message_text(ctx.get("message", ""), ctx.get("tries", 0)),
        nonce=g.csp_nonce, csrf=fields.get("csrf", ""), digits=codes.DIGITS,
        minutes=codes.LIFETIME_S // 60, **ctx)
    resp = Response(html, status=status, mimetype="text/html")
    if cookie is not None:
        resp.set_cookie(csrf.cookie_name(_secure()), cookie, httponly=True, samesite="Strict",
                        secure=_secure(), path="/")
    return resp


# The page a link that works no more shows, and its status: 410 for what ended for good
# (SPEC 10.3), 403 for what is refused, 404 for a link that never existed.
ENDED_TEXTS = {
    "invalid": (N_("delivery.page.ended.invalid.title"),
                N_("delivery.page.ended.invalid.body")),
    "revoked": (N_("delivery.page.ended.revoked.title"),
                N_("delivery.page.ended.revoked.body")),
    "expired": (N_("delivery.page.ended.expired.title"),
                N_("delivery.page.ended.expired.body")),
    "used_up": (N_("delivery.page.ended.used_up.title"),
                N_("delivery.page.ended.used_up.body")),
    "locked": (N_("delivery.page.ended.locked.title"),
               N_("delivery.page.ended.locked.body")),
    "codes_used_up": (N_("delivery.page.ended.codes_used_up.title"),
                      N_("delivery.page.ended.codes_used_up.body")),
    "held": (N_("delivery.page.ended.held.title"),
             N_("delivery.page.ended.held.body")),
    "files_revoked": (N_("delivery.page.ended.files_revoked.title"),
                      N_("delivery.page.ended.files_revoked.body")),
    "files_expired": (N_("delivery.page.ended.files_expired.title"),
                      N_("delivery.page.ended.files_expired.body")),
    "session": (N_("delivery.page.ended.session.title"),
                N_("delivery.page.ended.session.body")),
}
ENDED_STATUS = {"invalid": 404, "revoked": 410, "expired": 410, "used_up": 410,
                "locked": 403, "codes_used_up": 403, "held": 403,
                "files_revoked": 410, "files_expired": 410}


def _is_link(visit: Visit) -> bool:
    from service.files.manifest import LINK_ZIP_NAME

    return visit.package.zip_filename == LINK_ZIP_NAME


def _ended(reason: str, visit: Visit | None = None) -> Response:
    if visit is None or reason not in ENDED_STATUS:
        reason = "invalid"
    elif reason in ("revoked", "expired") and _is_link(visit):
        reason = "files_" + reason       # the sender withdrew the files / they expired
    ctx: dict[str, Any] = {"reason": reason}
    if visit is not None and reason != "invalid":
        locale = _locale()
        ctx.update(sender=visit.package.sender, zip_name=visit.package.zip_filename,
                   limit=visit.package.reveal_limit,
                   expires=format_time(visit.package.expires_at, locale, _zone()))
    return _render("ended", ENDED_STATUS.get(reason, 404), **ctx)


def _context(visit: Visit) -> dict[str, Any]:
    return {"sender": visit.package.sender, "zip_name": visit.package.zip_filename,
            "count": len(visit.package.file_names), "address": mask(visit.grant.address),
            "link": _is_link(visit)}


def _redirect(token: str, message: str = "") -> Response:
    """Post/Redirect/Get: every POST ends in a GET of the page, so Reload and Back
    repeat nothing (no second code mail, no counted guess)."""
    query = {"lang": _locale()}
    if message:
        query["m"] = message
    return redirect(f"/k/{token}?{urlencode(query)}", code=303)


MESSAGES = ("wrong", "exhausted", "stale", "malformed", "rate_limited", "again")
# What the page says after a redirect (``?m=``); "wrong" depends on the tries left.
MESSAGE_TEXTS = {"exhausted": N_("delivery.page.msg.exhausted"),
                 "stale": N_("delivery.page.msg.stale"),
                 "malformed": N_("delivery.page.msg.malformed"),
                 "rate_limited": N_("delivery.page.msg.rate_limited"),
                 "again": N_("delivery.page.msg.again")}


def _message_text(message: str, tries: int) -> str:
    if not message:
        return ""
    if message == "wrong":
        return (_("delivery.page.msg.wrong.single") if tries == 1
                else _("delivery.page.msg.wrong", n=tries))
    return _(MESSAGE_TEXTS[message], minutes=codes.LIFETIME_S // 60)


def _seen(token: str, visit: Visit) -> bool:
    value = request.cookies.get(session.cookie_name(_secure()))
    return session.valid(_form_secret(), token, visit.grant.id, _nonce(), value,
                         services().clock())


def _password(shown: Revealed, token: str, cookie: str | None) -> Response:
    """The password page: straight in the answer to the right code (a client without
    cookies still gets it), and again on Reload, Back and the language switch for as long
    as the session cookie set here lives."""
    value = cookie or request.cookies.get(session.cookie_name(_secure()))
    until = datetime.fromtimestamp(session.until(value) or 0, UTC)
    link = _is_link(Visit(shown.grant, shown.package))
    if link:
        from service.files.manifest import decode

        files = [{"name": f.name, "size": f.size, "label": human_size(f.size)}
                 for f in decode(shown.password).files]
        resp = _render("files", files=files, link_token=token, link=True,
                       until=format_clock(until, _locale(), _zone()))
    else:
        resp = _render("password", password=shown.password, zip_name=shown.package.zip_filename,
                       until=format_clock(until, _locale(), _zone()))
    if cookie is not None:
        lifetime = session.LINK_LIFETIME_S if link else session.LIFETIME_S
        resp.set_cookie(session.cookie_name(_secure()), cookie, max_age=lifetime,
                        httponly=True, samesite="Strict", secure=_secure(), path="/")
    return resp


@bp.get("/k/<token>")
def key_page(token: str) -> ResponseReturnValue:
    sv = services()
    now = sv.clock()
    page = _page()
    try:
        visit = page.find(token)
    except SendGuardError:
        return _ended("invalid")
    locale = _locale()
    if _seen(token, visit):
        try:
            return _password(page.show_again(visit, now), token, None)
        except LinkEndedError as exc:
            return _ended(exc.reason, visit)
    try:
        visit = page.open(token, now)
    except LinkEndedError as exc:
        return _ended(exc.reason, visit)
    except SendGuardError:
        return _ended("invalid")
    message = request.args.get("m", "")
    ctx = _context(visit)
    tries = page.tries_left(visit) if visit.code_pending(now) else 0
    if tries > 0:                       # a code to type, and tries left for it
        grant = visit.grant
        ctx.update(sent_at=format_clock(grant.code_last_sent_at or now, locale, _zone()),
                   until=format_clock(grant.code_expires_at or now, locale, _zone()),
                   tries=tries)
        view = "code"
    else:                               # the way on is a new code
        view = "request"
        if message == "wrong":
            message = "exhausted"
    return _render(view, token=token, message=message if message in MESSAGES else "", **ctx)


@bp.post("/k/<token>")
def key_action(token: str) -> ResponseReturnValue:
    sv = services()
    form = request.form
    page = _page()
    try:
        page.find(token)
    except SendGuardError:
        return _ended("invalid")
    if not csrf.valid(_form_secret(), token, _nonce(), form.get("csrf")):
        log.info("key page: a form without a valid CSRF token: shown again, nothing done")
        return _redirect(token, "again")
    action = form.get("action", "")
    now = sv.clock()
    try:
        if action == "send_code":
            page.send_code(token, now)
            return _redirect(token)
        if action == "reveal":
            visit = page.find(token)
            if _seen(token, visit):         # Reload of this very answer: show it again
                return _password(page.show_again(visit, now), token, None)
            revealed = page.reveal(token, form.get("code", ""), now)
            lifetime = (session.LINK_LIFETIME_S if _is_link(visit) else session.LIFETIME_S)
            return _password(revealed, token, session.issue(
                _form_secret(), token, revealed.grant.id, _nonce(), now, lifetime))
    except MailerError:
        return _render("unavailable", MailerError.status)
    except CodeRefusedError as exc:
        return _redirect(token, exc.reason)
    except LinkEndedError:
        return _redirect(token)           # the GET says what happened and what to do
    except SendGuardError:
        return _ended("invalid")
    return _redirect(token, "again")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"   # pragma: no cover


@bp.get("/k/<token>/files/<int:n>")
def download(token: str, n: int) -> ResponseReturnValue:
    """One file of a link package, for the browser whose code opened the session; 410
    with the "withdrawn"/"expired" page once the sender recalled the files or they
    expired."""
    from service.delivery import downloads
    from service.delivery.keypage import ended_reason
    from service.delivery.linkpackages import open_manifest

    sv = services()
    now = sv.clock()
    page = _page()
    try:
        visit = page.find(token)
    except SendGuardError:
        return _ended("invalid")
    if not _is_link(visit):
        return _ended("invalid")
    reason = ended_reason(visit.package, visit.grant, now)
    if reason not in (None, "used_up"):
        return _ended(reason or "invalid", visit)
    if not _seen(token, visit):
        return _render("ended", 403, reason="session")
    try:
        manifest = open_manifest(sv.keywrapper, visit.package)
    except SendGuardError:
        return _ended("invalid")
    if not 0 <= n < len(manifest.files):
        return _ended("invalid")
    stored = manifest.files[n]
    size = stored.size
    span = request.range.range_for_length(size) if request.range else None
    if request.range and span is None and size and request.range.units == "bytes" \
            and len(request.range.ranges) == 1:
        resp = Response(b"", status=416)
        resp.headers["Content-Range"] = f"bytes */{size}"
        return resp
    start, stop = span if span else (0, size)
    body = downloads.stream(sv.files, manifest, n, start, stop - 1 if span else None)
    try:
        first = next(body, None)     # the first chunk: a missing object fails here, not mid-way
    except SendGuardError:
        log.warning("package %s: stored file %d could not be read", visit.package.id, n)
        return _ended("files_expired" if visit.package.state != "released" else "invalid",
                      visit)

    def chunks() -> Any:
        if first is not None:
            yield first
        yield from body

    downloads.record(sv.store, sv.mailer, sv.config, visit, n, stored, span, now)
    resp = Response(chunks(), status=206 if span else 200,
                    mimetype="application/octet-stream", direct_passthrough=True)
    resp.headers["Content-Disposition"] = downloads.content_disposition(stored.name)
    resp.headers["Content-Length"] = str(stop - start)
    resp.headers["Accept-Ranges"] = "bytes"
    if span:
        resp.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return resp


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _not_here(exc: HTTPException) -> ResponseReturnValue:
    """Anything else under /k/ (a link with a tail, a PUT) gets the same page and the
    same headers as a bad link; elsewhere Flask's own answer stands."""
    if not request.path.startswith("/k/"):
        return exc
    use_locale(_locale())      # no route matched: this blueprint's before_request did not run
    resp = _ended("invalid")
    if getattr(exc, "code", 404) == 405:
        resp.status_code = 405
        resp.headers["Allow"] = "GET, POST"
    return resp


def _bearer() -> str:
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("unauthorized")
    return token.strip()


@bp.post(TASK_PATH)
def release_due_task() -> ResponseReturnValue:
    from service.idtokens import verify_oidc_token

    sv = services()
    config = sv.config
    try:
        if not config.base_url or not config.scheduler_service_account:
            log.warning("refused %s: base URL or scheduler service account not set", TASK_PATH)
            raise AuthError("unauthorized")
        verify_oidc_token(_bearer(), certs=sv.google_certs, audience=config.base_url + TASK_PATH,
                          service_account=config.scheduler_service_account)
    except AuthError:
        return jsonify(error="unauthorized"), 401, {"Cache-Control": "no-store"}
    report = release_tick(sv.store, sv.mailer, config, sv.keywrapper, sv.clock(),
                          retention=config.retention())
    return jsonify(report.to_json()), 200, {"Cache-Control": "no-store"}
