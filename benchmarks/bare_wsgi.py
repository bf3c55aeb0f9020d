"""The reference of ``bench_compose.py``: a bare WSGI callable under the same server.

It reads the request body and answers a fixed JSON body of a compose card's size, so
the CPU per request it costs is the server's own (HTTP parsing, threads, socket I/O):
what no change to SendGuard's code can remove.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b'{"action":{"navigations":[{"pushCard":' + b'{"x":"' + b"y" * 2300 + b'"}}]}}'


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])
    return [BODY]


def create() -> Callable[..., Any]:
    """The factory ``python -m service.server benchmarks.bare_wsgi:create`` serves."""
    return app
