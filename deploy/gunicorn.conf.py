"""Gunicorn settings shared by the container (Cloud Run) and App Engine's entrypoint.

Sizing: one instance serves ``workers x threads`` requests at once, which is what Cloud
Run's ``--concurrency`` is set to (deploy.sh); each worker holds at most
``SENDGUARD_DB_POOL_SIZE`` database connections (the pool has no overflow), so Cloud SQL
sees at most ``max instances x workers x pool size`` connections.

Shutdown: Cloud Run sends SIGTERM and kills the container 10 s later. Gunicorn stops
accepting, lets in-flight requests (a draft being sent, a key being released) finish for
``graceful_timeout`` seconds, then exits; nothing new starts half-way.

Timeouts agree with Cloud Run: ``timeout`` is Cloud Run's request timeout (deploy.sh
``--timeout``, 120 s, overridable with ``SENDGUARD_REQUEST_TIMEOUT``), so a worker whose
main loop stops answering for as long as any request may last is restarted instead of
staying busy for ever (``timeout = 0`` did that). CPU-heavy content analysis does not run
on request threads at all: it runs in a per-worker pool of worker processes
(``SENDGUARD_ANALYSIS_WORKERS``, default 1; ``SENDGUARD_ANALYSIS_MEMORY_MB``, default
384) that are killed at the policy's ``attachments.check_deadline`` (at most 50 s) plus
2 s, so a request is answered well within the request timeout and its work stops with
it. On a 1 CPU / 1 GiB instance: 2 workers x ~120 MB + 2 analysis processes x 384 MB.

No access log: request URLs of the key page carry link tokens. The platform's own request
log and SendGuard's redacted JSON lines say what happened.
"""

import os

from gunicorn.glogging import Logger

bind = f"0.0.0.0:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "20"))   # measured: deploy/README.md, Sizing
worker_class = "gthread"
timeout = int(os.environ.get("SENDGUARD_REQUEST_TIMEOUT", "120"))  # = Cloud Run --timeout
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "8"))
keepalive = 5
accesslog = None
errorlog = "-"
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - in memory
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


class NoAccessLog(Logger):
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
