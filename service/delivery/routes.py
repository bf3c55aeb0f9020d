"""HTTP for key delivery: the ``/k/<token>`` page and ``POST /tasks/release-due``.

The key page is server-rendered HTML in Japanese or English (``Accept-Language``, or the
``lang`` toggle). GET only shows; POST ``action=send_code`` mails a code, POST
``action=reveal`` shows the password. Every refusal is one page with one status. Every
response carries a strict CSP (a per-response nonce for its one style and one script),
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
from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from service.delivery import codes, csrf
from service.delivery.keypage import KeyPage, Visit, mask
from service.delivery.mailer import MailerError
from service.delivery.release import base_url, release_tick
from service.errors import AuthError, SecretError, SendGuardError
from service.i18n import t
from service.services import services

log = logging.getLogger(__name__)

bp = Blueprint("delivery", __name__, template_folder="templates")

TASK_PATH = "/tasks/release-due"
LOCALES = ("ja", "en")
_EXT = "sendguard.delivery"


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions[_EXT] = {"lock": threading.Lock(), "certs": None, "secret": None}


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


def _certs() -> Any:
    from service.addon.auth import CertificateCache

    state = _state()
    with state["lock"]:
        if state["certs"] is None:
            state["certs"] = CertificateCache(services().config.google_certs_url)
        return state["certs"]


def _page() -> KeyPage:
    sv = services()
    return KeyPage(sv.store, sv.mailer, sv.config, sv.keywrapper)


def _locale() -> str:
    chosen = request.values.get("lang", "")
    if chosen in LOCALES:
        return chosen
    best = request.accept_languages.best_match(LOCALES, default="en")
    return best if best in LOCALES else "en"


def _secure() -> bool:
    return base_url(services().config).startswith("https://")


def _nonce() -> str:
    return request.cookies.get(csrf.cookie_name(_secure()), "")


@bp.after_request
def _headers(resp: Response) -> Response:
    if request.blueprint != bp.name:
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
    locale = _locale()
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
        tx=lambda key, **kw: t(key, locale, **kw), other_name=t("delivery.page.lang_name", other),
        nonce=g.csp_nonce, csrf=fields.get("csrf", ""), digits=codes.DIGITS,
        minutes=codes.LIFETIME_S // 60, **ctx)
    resp = Response(html, status=status, mimetype="text/html")
    if cookie is not None:
        resp.set_cookie(csrf.cookie_name(_secure()), cookie, httponly=True, samesite="Strict",
                        secure=_secure(), path="/")
    return resp


def _refused() -> Response:
    return _render("error", SecretError.status)


def _context(visit: Visit) -> dict[str, Any]:
    return {"sender": visit.package.sender, "zip_name": visit.package.zip_filename,
            "count": len(visit.package.file_names), "address": mask(visit.grant.address)}


@bp.get("/k/<token>")
def key_page(token: str) -> ResponseReturnValue:
    sv = services()
    try:
        visit = _page().open(token, sv.clock())
    except SendGuardError:
        return _refused()
    view = "code" if visit.code_pending(sv.clock()) else "request"
    return _render(view, token=token, sent=False, **_context(visit))


@bp.post("/k/<token>")
def key_action(token: str) -> ResponseReturnValue:
    sv = services()
    form = request.form
    if not csrf.valid(_form_secret(), token, _nonce(), form.get("csrf")):
        log.info("key page: refused a form without a valid CSRF token")
        return _refused()
    action = form.get("action", "")
    page = _page()
    try:
        if action == "send_code":
            visit = page.send_code(token, sv.clock())
            return _render("code", token=token, sent=True, **_context(visit))
        if action == "reveal":
            revealed = page.reveal(token, form.get("code", ""), sv.clock())
            return _render("password", password=revealed.password,
                           zip_name=revealed.package.zip_filename)
    except MailerError:
        return _render("unavailable", MailerError.status)
    except SendGuardError:
        return _refused()
    return _refused()


def _bearer() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("unauthorized")
    return token.strip()


@bp.post(TASK_PATH)
def release_due_task() -> ResponseReturnValue:
    from service.addon.auth import verify_oidc_token

    sv = services()
    config = sv.config
    try:
        if not config.base_url or not config.scheduler_service_account:
            log.warning("refused %s: base URL or scheduler service account not set", TASK_PATH)
            raise AuthError("unauthorized")
        verify_oidc_token(_bearer(), certs=_certs(), audience=config.base_url + TASK_PATH,
                          service_account=config.scheduler_service_account)
    except AuthError:
        return jsonify(error="unauthorized"), 401, {"Cache-Control": "no-store"}
    report = release_tick(sv.store, sv.mailer, config, sv.keywrapper, sv.clock(),
                          retention=config.retention())
    return jsonify(report.to_json()), 200, {"Cache-Control": "no-store"}
