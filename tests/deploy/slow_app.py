"""A WSGI app for the gunicorn test: a slow request that logs under its trace."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask

from service import logs


def create() -> Flask:
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

    return app
