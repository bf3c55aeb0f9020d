"""``sendguard serve``: the service under gunicorn, on a policy read and validated first."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.commands.base import Subcommands


def register(sub: Subcommands) -> None:
    s = sub.add_parser("serve", help="run the service (gunicorn; PORT from the environment)")
    s.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))  # noqa: S104 - Cloud Run
    s.add_argument("--port", type=int, default=None, help="default: $PORT or 8080")
    s.add_argument("--workers", type=int, default=int(os.environ.get("GUNICORN_WORKERS", "2")))
    s.add_argument("--threads", type=int,
                   default=int(os.environ.get("GUNICORN_THREADS", "20")))
    s.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from service.app import create_app
    from service.commands.base import load_policy_for_service
    from service.logs import configure_logging
    from service.services import Services
    from service.settings import Config

    config = Config.from_env()
    policy = load_policy_for_service(config.policy_path)
    configure_logging(config)
    app = create_app(config, services=Services(config, _policy=policy))

    def on_starting(server: object) -> None:
        configure_logging(config)   # again: gunicorn's logconfig_dict reset the root logger
    port = args.port or config.port
    options = {
        "bind": f"{args.host}:{port}",
        "workers": args.workers,
        "threads": args.threads,
        "worker_class": "gthread",
        # = Cloud Run's request timeout (deploy.sh --timeout); see deploy/gunicorn.conf.py
        "timeout": int(os.environ.get("SENDGUARD_REQUEST_TIMEOUT", "120")),
        "graceful_timeout": int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "8")),
        "keepalive": 5,
        "accesslog": None,         # key-page URLs carry link tokens: no access log
        "control_socket_disable": True,
        "on_starting": on_starting,   # several instances may share one home directory
        # gunicorn's own lines go through the root logger: the same redacted JSON lines
        "logconfig_dict": {
            "version": 1, "disable_existing_loggers": False,
            "root": {"level": "INFO", "handlers": []},
            "loggers": {"gunicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
                        "gunicorn.access": {"level": "WARNING", "handlers": [],
                                            "propagate": False}},
        },
    }

    class _Server(BaseApplication):  # type: ignore[misc]  # gunicorn has no types: Any base
        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:   # older gunicorn lacks some settings
                    self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    _Server().run()
    return 0
