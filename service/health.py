"""``GET /healthz``: 200 when the database answers and the policy is loaded (SPEC
section 5, issue 10): a service that could not read its policy is not healthy, whatever
its database says, so a load balancer or Cloud Run never routes mail checks to it."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.errors import SendGuardError
from service.services import services

log = logging.getLogger(__name__)

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    sv = services()
    checks: dict[str, str] = {}
    try:
        _ = sv.policy   # loaded once at start by serve/dev; loads here otherwise
        checks["policy"] = "ok"
    except SendGuardError as exc:
        log.error("healthz: the policy cannot be loaded: %s", exc.public_message)
        checks["policy"] = "unavailable"
    try:
        checks["database"] = "ok" if sv.store.ping() else "unavailable"
    except Exception:  # any failure means unhealthy, never a 500 page
        checks["database"] = "unavailable"
    ok = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ok else "unavailable", **checks), 200 if ok else 503
