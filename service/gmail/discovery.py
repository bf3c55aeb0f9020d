"""The Gmail v1 discovery document bundled in google-api-python-client, read once on demand.

The adapter builds its client from it and the emulator validates requests against it, so
the emulator cannot accept a call the real client library could not make.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from googleapiclient.discovery_cache import get_static_doc

API, VERSION = "gmail", "v1"


@cache
def document_text() -> str:
    text: str | None = get_static_doc(API, VERSION)   # googleapiclient is untyped
    if text is None:  # the client library always ships it; a broken install is a real error
        raise RuntimeError("google-api-python-client has no bundled gmail v1 discovery document")
    return text


@cache
def document() -> Mapping[str, Any]:
    """The parsed document; callers must not mutate it."""
    doc: dict[str, Any] = json.loads(document_text())
    return doc


@lru_cache(maxsize=16)
def document_for(endpoint: str) -> str:
    """The document with ``rootUrl`` set to ``endpoint``.

    ``client_options.api_endpoint`` alone moves only the host of media-upload URLs and keeps
    the ``https`` scheme of Google's root (googleapiclient ``_fix_up_media_path_base_url``),
    so uploads to an ``http://`` emulator would go to the wrong scheme. Rewriting the root
    moves every URL, uploads included; for Google's own endpoint nothing changes.
    """
    doc = json.loads(document_text())
    doc["rootUrl"] = endpoint if endpoint.endswith("/") else endpoint + "/"
    return json.dumps(doc)


@dataclass(frozen=True)
class ApiMethod:
    """One REST method of the document, with a matcher for its path template."""

    id: str                              # e.g. "gmail.users.drafts.get"
    http_method: str
    path: str                            # e.g. "gmail/v1/users/{userId}/drafts/{id}"
    parameters: Mapping[str, Mapping[str, Any]]
    request_schema: str | None
    max_upload: int | None               # bytes, when the method accepts media
    upload_accept: tuple[str, ...]
    pattern: re.Pattern[str]
    scopes: tuple[str, ...] = ()         # any one of them authorises the call

    @property
    def short_id(self) -> str:
        """``drafts.send`` for ``gmail.users.drafts.send``."""
        return self.id.removeprefix("gmail.users.")

    def match(self, path: str) -> dict[str, str] | None:
        m = self.pattern.fullmatch(path)
        return None if m is None else m.groupdict()


def _pattern(template: str) -> re.Pattern[str]:
    out, pos = [], 0
    for m in re.finditer(r"\{(\+?)([A-Za-z_][A-Za-z0-9_]*)\}", template):
        out.append(re.escape(template[pos:m.start()]))
        out.append(f"(?P<{m.group(2)}>{'.+' if m.group(1) else '[^/]+'})")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("".join(out))


def _walk(resources: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for res in resources.values():
        found.extend(res.get("methods", {}).values())
        found.extend(_walk(res.get("resources", {})))
    return found


@cache
def methods() -> tuple[ApiMethod, ...]:
    """Every method, literal-heavy templates first so ``drafts/send`` beats ``drafts/{id}``."""
    out = []
    for m in _walk(document()["resources"]):
        upload = m.get("mediaUpload") or {}
        out.append(ApiMethod(
            id=m["id"],
            http_method=m["httpMethod"],
            path=m["path"],
            parameters=m.get("parameters", {}),
            request_schema=(m.get("request") or {}).get("$ref"),
            max_upload=int(upload["maxSize"]) if "maxSize" in upload else None,
            upload_accept=tuple(upload.get("accept", ())),
            pattern=_pattern(m["path"]),
            scopes=tuple(m.get("scopes", ())),
        ))
    out.sort(key=lambda a: -len(re.sub(r"\{[^}]*\}", "", a.path)))
    return tuple(out)


def find_method(http_method: str, path: str) -> tuple[ApiMethod, dict[str, str]] | None:
    for m in methods():
        if m.http_method == http_method:
            params = m.match(path)
            if params is not None:
                return m, params
    return None


def global_parameters() -> Mapping[str, Mapping[str, Any]]:
    params: Mapping[str, Mapping[str, Any]] = document()["parameters"]
    return params


def schema(name: str) -> Mapping[str, Any]:
    schemas: Mapping[str, Mapping[str, Any]] = document()["schemas"]
    return schemas[name]
