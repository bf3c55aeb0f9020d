"""A WSGI app for the server tests (tests/deploy/test_server.py), served by
``python -m service.server slow_app:create`` exactly as the service is: a slow request that
logs under its trace, its worker's PID, and an attachment check through the add-on's
content analysis (``service.addon.analysis.analyze``, the pool of the worker)."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue

from service import logs


def create() -> Flask:
    if os.environ.get("FAIL_TO_START"):
        raise RuntimeError("cannot reach postgresql://sendguard:hunter2-secret@db/sendguard")
    app = Flask("slow")
    logs.init_app(app)

    @app.get("/slow")
    def slow() -> str:
        log = logging.getLogger("service.slow")
        log.info("send started, code 12345678 for /k/c2VjcmV0LWxpbmstdG9rZW4")
        time.sleep(float(os.environ.get("SLOW_SECONDS", "2")))
        log.info("send finished")
        return "sent"

    @app.get("/fast")
    def fast() -> str:
        return "ok"

    @app.get("/pid")
    def pid() -> str:
        return str(os.getpid())

    @app.post("/check")
    def check() -> ResponseReturnValue:
        from service.addon.analysis import analyze, is_heavy
        from service.policy import draft_from_bytes
        from service.policy.policyfile import Policy

        draft = draft_from_bytes(request.get_data())
        report = analyze(draft, Policy(internal_domains=("example.co.jp",)), content=True)
        return jsonify(heavy=is_heavy(draft), pid=os.getpid(),
                       codes=sorted({f.code for f in report.findings}))

    return app
