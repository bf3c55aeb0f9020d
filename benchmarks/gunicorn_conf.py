"""The gunicorn settings the image ran until issue 12, kept as ``bench_compose.py --server
gunicorn``'s reference: the image's sizing (``SENDGUARD_HTTP_WORKERS`` x
``SENDGUARD_HTTP_THREADS`` gthread threads, by default ``ServerSettings``'), no access log
and none of its work (``NoAccessLog``), JSON logs through ``service.logs``. Production runs granian
(service/server.py; why: deploy/README.md). Not shipped, not used by the service.
"""

import os

from gunicorn.glogging import Logger

from service.server import ServerSettings

_default = ServerSettings()

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("SENDGUARD_HTTP_WORKERS", _default.workers))
threads = int(os.environ.get("SENDGUARD_HTTP_THREADS", _default.threads))
worker_class = "gthread"
timeout = int(os.environ.get("SENDGUARD_REQUEST_TIMEOUT", "120"))  # = Cloud Run --timeout
graceful_timeout = int(os.environ.get("SENDGUARD_GRACEFUL_TIMEOUT", "8"))
keepalive = 5
accesslog = None
errorlog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
control_socket_disable = True   # gunicorn >= 25: no socket under a home the image lacks

# Gunicorn's own lines go through the root logger, so they come out as the same redacted
# JSON as the application's (configured in on_starting, before workers fork).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": []},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}


class NoAccessLog(Logger):  # type: ignore[misc]  # gunicorn has no types: Any base
    """No access log, and none of its work: gunicorn builds every request's log fields
    whenever a logging config is given (``logconfig_dict`` above), even when the logger
    then drops them, which was 3-7 % of a compose request's CPU (py-spy, issue 12)."""

    def access(self, resp: object, req: object, environ: object, request_time: object
               ) -> None:
        return None


logger_class = NoAccessLog


def on_starting(server: object) -> None:
    from service.logs import configure_logging
    from service.settings import Config

    production = os.environ.get("SENDGUARD_ENV", "").strip().lower() == "production"
    configure_logging(Config(), json_lines=production)
