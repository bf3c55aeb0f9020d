"""``sendguard serve``: the service under granian (service/server.py), on a policy read and
validated first. The image and App Engine run exactly this."""

from __future__ import annotations

import argparse
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.commands.base import Subcommands


def register(sub: Subcommands) -> None:
    from service.server import ServerSettings  # stdlib only: cheap for every parser

    d = ServerSettings()
    s = sub.add_parser("serve", help="run the service (granian; PORT from the environment)")
    s.add_argument("--host", default=None, help=f"default: $HOST or {d.host}")
    s.add_argument("--port", type=int, default=None, help=f"default: $PORT or {d.port}")
    s.add_argument("--workers", type=int, default=None,
                   help=f"worker processes (default: $SENDGUARD_HTTP_WORKERS or {d.workers})")
    s.add_argument("--threads", type=int, default=None,
                   help=("request threads per worker (default: $SENDGUARD_HTTP_THREADS or "
                         f"{d.threads})"))
    s.set_defaults(handler=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    from service.commands.base import load_policy_for_service
    from service.logs import configure_logging
    from service.server import ServerSettings, sendguard_app, serve
    from service.settings import Config

    settings = ServerSettings.from_env(host=args.host, port=args.port, workers=args.workers,
                                       threads=args.threads)
    config = Config.from_env()
    configure_logging(config)
    policy = load_policy_for_service(config.policy_path)   # exit 2 when broken, before listening
    import service.app  # noqa: F401 - imported once here, shared by the workers it forks

    serve(settings, partial(sendguard_app, policy))
    return 0
