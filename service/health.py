"""``GET /healthz``: 200 when the database answers (SPEC section 5)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from service.services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    try:
        ok = services().store.ping()
    except Exception:  # any failure means unhealthy, never a 500 page
        ok = False
    return jsonify(status="ok" if ok else "unavailable"), 200 if ok else 503
