"""The emulator's control API over HTTP, under ``/__emulator__/``, for browser-driven tests
and ``make run``; each endpoint maps to a public ``GmailEmulator`` method.

    GET    /__emulator__/            users, pending faults, number sent
    POST   /__emulator__/users       {"email", "token", "scopes"?}
    POST   /__emulator__/faults      {"status", "times", "method", "delay", "after_commit",
                                      "drop", "retry_after", "skip"}  (see faults.Fault)
    GET    /__emulator__/faults      pending faults
    DELETE /__emulator__/faults      clear them
    GET    /__emulator__/sent        ?user=…&raw=1: what was sent, oldest first
    GET    /__emulator__/requests    ?method=drafts.send: requests seen, with status
    POST   /__emulator__/reset       forget mail, faults, logs (tokens stay)
    GET    /__emulator__/rules       the content compliance rules (compliance.Rule)
    POST   /__emulator__/rules       {"rules": [...]}: replace them (validated first)
    GET    /__emulator__/outbound    ?user=…: what the outbound pipeline did with each send
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any, Protocol

from werkzeug.wrappers import Request, Response

from service.devtools.gmail_emulator.compliance import Rule
from service.devtools.gmail_emulator.faults import Fault
from service.devtools.gmail_emulator.validate import ApiError, error_response, json_body

PREFIX = "/__emulator__"
_FAULT_KEYS = {"status", "times", "method", "delay", "after_commit", "drop", "retry_after",
               "skip"}


class _Sent(Protocol):
    def to_json(self, with_raw: bool = False) -> dict[str, Any]: ...


class _Record(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class Controlled(Protocol):
    """The ``GmailEmulator`` methods the control API calls (the emulator mounts this
    module; this module does not import the emulator)."""

    def users(self) -> list[str]: ...
    def add_user(self, email: str, token: str, scopes: Iterable[str] | None = None) -> None: ...
    def inject(self, status: int | None = None, *, times: int = 1, method: str | None = None,
               delay: float = 0.0, after_commit: bool = False, drop: bool = False,
               retry_after: float | None = None, skip: int = 0) -> Fault: ...
    def faults(self) -> list[Fault]: ...
    def clear_faults(self) -> None: ...
    def sent(self, user: str | None = None) -> Sequence[_Sent]: ...
    def requests(self, method: str | None = None) -> Sequence[Any]: ...
    def rules(self) -> list[Rule]: ...
    def set_rules(self, rules: Iterable[Rule | Mapping[str, Any]]) -> list[Rule]: ...
    def outbound(self, user: str | None = None) -> Sequence[_Record]: ...
    def reset(self) -> None: ...


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


def _fault_args(body: dict[str, Any]) -> dict[str, Any]:
    unknown = set(body) - _FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    return body


def control(emulator: Controlled, request: Request) -> Response:
    route = (request.method, request.path.removeprefix(PREFIX).strip("/"))
    try:
        body = json_body(request.get_data()) if request.method == "POST" else {}
        if route == ("GET", ""):
            return _json({"users": emulator.users(),
                          "faults": [f.to_json() for f in emulator.faults()],
                          "sent": len(emulator.sent())})
        if route == ("POST", "users"):
            scopes = body.get("scopes")
            emulator.add_user(str(body.get("email", "")), str(body.get("token", "")),
                              [str(x) for x in scopes] if isinstance(scopes, list) else None)
            return Response(status=204)
        if route == ("POST", "faults"):
            return _json(emulator.inject(**_fault_args(body)).to_json(), 201)
        if route == ("GET", "faults"):
            return _json({"faults": [f.to_json() for f in emulator.faults()]})
        if route == ("DELETE", "faults"):
            emulator.clear_faults()
            return Response(status=204)
        if route == ("GET", "sent"):
            with_raw = request.args.get("raw") in ("1", "true")
            return _json({"sent": [s.to_json(with_raw)
                                   for s in emulator.sent(request.args.get("user"))]})
        if route == ("GET", "requests"):
            return _json({"requests": [asdict(r)
                                       for r in emulator.requests(request.args.get("method"))]})
        if route == ("GET", "rules"):
            return _json({"rules": [r.to_json() for r in emulator.rules()]})
        if route == ("POST", "rules"):
            rules = body.get("rules")
            if not isinstance(rules, list):
                raise ValueError("expected {\"rules\": [...]}")
            return _json({"rules": [r.to_json() for r in emulator.set_rules(rules)]})
        if route == ("GET", "outbound"):
            return _json({"outbound": [o.to_json()
                                       for o in emulator.outbound(request.args.get("user"))]})
        if route == ("POST", "reset"):
            emulator.reset()
            return Response(status=204)
    except (ApiError, ValueError, TypeError) as exc:
        return error_response(400, str(exc))
    return error_response(404, f"No emulator control endpoint {route[0]} /{route[1]}")
