"""Request checks the emulator makes against the discovery document, with Google's errors.

Google answers an unknown query parameter or body field with 400 rather than ignoring it;
so does the emulator, so a typo in the adapter fails in tests instead of in production.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from service.gmail import discovery
from service.gmail.base64url import b64url_decode
from service.gmail.discovery import ApiMethod

BIG = 1 << 16
_STATUS = {
    400: ("INVALID_ARGUMENT", "badRequest"), 401: ("UNAUTHENTICATED", "authError"),
    403: ("PERMISSION_DENIED", "forbidden"), 404: ("NOT_FOUND", "notFound"),
    409: ("ABORTED", "conflict"), 413: ("FAILED_PRECONDITION", "uploadTooLarge"),
    429: ("RESOURCE_EXHAUSTED", "rateLimitExceeded"), 500: ("INTERNAL", "backendError"),
    501: ("UNIMPLEMENTED", "notImplemented"), 503: ("UNAVAILABLE", "backendError"),
}


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None,
                 *, reason: str | None = None, detail: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.reason = reason          # errors[0].reason, when not the status's usual one
        self.detail = detail          # errors[0].message, when not ``message``
        self.details = details        # google.rpc details (ErrorInfo)


def error_response(status: int, message: str, headers: Mapping[str, str] | None = None, *,
                   reason: str | None = None, detail: str | None = None,
                   details: list[dict[str, Any]] | None = None) -> Response:
    """Google's JSON error body, which googleapiclient's HttpError parses."""
    name, usual = _STATUS.get(status, ("UNKNOWN", "unknown"))
    error: dict[str, Any] = {
        "code": status, "message": message,
        "errors": [{"message": detail or message, "domain": "global",
                    "reason": reason or usual}],
        "status": name}
    if details:
        error["details"] = details
    return Response(json.dumps({"error": error}), status=status, headers=dict(headers or {}),
                    content_type="application/json; charset=UTF-8")


FULL_ACCESS = "https://mail.google.com/"
# Add-on scopes that work only with the per-message token of the open message
# (X-Goog-Gmail-Access-Token), never with the user's OAuth token alone.
CURRENT_MESSAGE = ("https://www.googleapis.com/auth/gmail.addons.current.message.",)


def insufficient_scopes(method: ApiMethod, granted: frozenset[str],
                        message_token: bool = False) -> ApiError | None:
    """Google's 403 when none of the token's scopes is one the discovery document lists
    for ``method``; None when one is."""
    usable = {s for s in granted if message_token or not s.startswith(CURRENT_MESSAGE)}
    if usable & set(method.scopes):
        return None
    needed = " ".join(method.scopes)
    return ApiError(
        403, "Request had insufficient authentication scopes.",
        {"WWW-Authenticate": f'Bearer realm="https://accounts.google.com/", '
                             f'error="insufficient_scope", scope="{needed}"'},
        reason="insufficientPermissions", detail="Insufficient Permission",
        details=[{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                  "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                  "metadata": {"service": "gmail.googleapis.com",
                               "method": f"gmail.{method.short_id}"}}])


METADATA = "https://www.googleapis.com/auth/gmail.metadata"
_FULL_FORMATS = ("full", "raw")


def metadata_scope_refusal(method: ApiMethod, granted: frozenset[str],
                           query: Mapping[str, Any]) -> ApiError | None:
    """Gmail's 403 for what ``gmail.metadata`` allows the method but not the request: the
    discovery document says ``q`` "cannot be used when accessing the api using the
    gmail.metadata scope", nor formats ``full`` and ``raw`` (messages.get, threads.get).
    Applies only when ``gmail.metadata`` is the one granted scope that authorises it."""
    if granted & set(method.scopes) != {METADATA}:
        return None
    if query.get("q") is not None:
        return ApiError(403, "Metadata scope does not support 'q' parameter",
                        reason="forbidden")
    fmt = str(query.get("format", "full" if method.id.endswith(".get") else "")).lower()
    if "format" in method.parameters and fmt in _FULL_FORMATS:
        return ApiError(403, f"Metadata scope doesn't allow format {fmt.upper()}",
                        reason="forbidden")
    return None


def json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(400, "Invalid JSON payload received.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "Invalid JSON payload received. The body must be an object.")
    return data


def check_query(method: ApiMethod, args: MultiDict[str, str], upload: bool) -> dict[str, Any]:
    """Typed query parameters; unknown, repeated-once, mistyped or missing ones are 400."""
    specs = dict(discovery.global_parameters())
    specs.update({k: v for k, v in method.parameters.items() if v.get("location") == "query"})
    out: dict[str, Any] = {}
    for key in args:
        spec = specs.get(key)
        if spec is None:
            raise ApiError(400, f'Invalid JSON payload received. Unknown name "{key}": '
                                f"Cannot bind query parameter. Field '{key}' could not be "
                                "found in request message.")
        values = args.getlist(key)
        if len(values) > 1 and not spec.get("repeated"):
            raise ApiError(400, f"Parameter '{key}' may be given only once.")
        typed = [_typed(key, spec, v) for v in values]
        out[key] = typed if spec.get("repeated") else typed[0]
    for key, spec in method.parameters.items():
        if spec.get("required") and spec.get("location") == "query" and key not in out:
            raise ApiError(400, f"Required parameter: {key}")
    if out.get("alt", "json") != "json":
        raise ApiError(400, "The emulator answers alt=json only.")
    kind = out.get("uploadType")
    if upload and kind not in ("media", "multipart", "resumable"):
        raise ApiError(400, "Upload requests need uploadType media, multipart or resumable.")
    if not upload and kind is not None:
        raise ApiError(400, "uploadType is only valid on /upload/ URLs.")
    return out


def _typed(key: str, spec: Mapping[str, Any], value: str) -> Any:
    kind = spec.get("type", "string")
    if kind == "integer":
        try:
            number = int(value)
        except ValueError:
            raise ApiError(400, f"Invalid value at '{key}' (TYPE_UINT32), \"{value}\"") from None
        if number < int(spec.get("minimum", -(2**63))):
            raise ApiError(400, f"Invalid value at '{key}', \"{value}\"")
        return number
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ApiError(400, f"Invalid value at '{key}' (TYPE_BOOL), \"{value}\"")
        return value == "true"
    enum = spec.get("enum")
    if enum and value not in enum:
        raise ApiError(400, f"Invalid value at '{key}', \"{value}\"")
    return value


def decode_bytes(value: str, where: str) -> bytes:
    try:
        return b64url_decode(value)
    except ValueError:
        raise ApiError(400, f"Invalid value at '{where}' (TYPE_BYTES), "
                            "Base64 decoding failed.") from None


def check_body(schema_name: str, value: Any) -> None:
    check_value({"$ref": schema_name}, value, "")


def check_value(spec: Mapping[str, Any], value: Any, where: str) -> None:
    """Reject what Google rejects in a JSON body: unknown field names and wrong types."""
    if "$ref" in spec:
        spec = discovery.schema(spec["$ref"])
    kind = spec.get("type")
    bad = ApiError(400, f"Invalid value at '{where or 'body'}': expected {kind}.")
    if kind == "object":
        if not isinstance(value, dict):
            raise bad
        props, extra = spec.get("properties", {}), spec.get("additionalProperties")
        for key, item in value.items():
            sub = props.get(key, extra)
            if sub is None:
                raise ApiError(400, f'Invalid JSON payload received. Unknown name "{key}" at '
                                    f"'{where or 'body'}': Cannot find field.")
            check_value(sub, item, f"{where}.{key}" if where else key)
    elif kind == "array":
        if not isinstance(value, list):
            raise bad
        for i, item in enumerate(value):
            check_value(spec.get("items", {}), item, f"{where}[{i}]")
    elif kind == "string":
        if spec.get("format") in ("int64", "uint64") and isinstance(value, int):
            return
        if not isinstance(value, str):
            raise bad
        if spec.get("format") == "byte" and len(value) < BIG:  # big ones: decoded by the handler
            decode_bytes(value, where)
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad
    elif kind == "boolean" and not isinstance(value, bool):
        raise bad
