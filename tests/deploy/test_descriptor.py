"""addon/deployment.json against Google's published ``Deployment`` proto and the add-on's
own needs (scopes, locale, granular consent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service.addon.scopes import ALL_SCOPES, LOCALE_SCOPE

from .descriptor import DescriptorError, parse_descriptor

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "addon" / "deployment.json"
URL = "https://sendguard-x7fq2kd3ua-an.a.run.app"


def rendered() -> str:
    return TEMPLATE.read_text(encoding="utf-8").replace("${SERVICE_URL}", URL)


def test_the_descriptor_parses_with_googles_proto() -> None:
    deployment = parse_descriptor(rendered())
    assert list(deployment.oauth_scopes) == list(ALL_SCOPES)
    common = deployment.add_ons.common
    assert common.use_locale_from_app and LOCALE_SCOPE in deployment.oauth_scopes
    assert common.homepage_trigger.run_function == f"{URL}/addon/homepage"
    compose = deployment.add_ons.gmail.compose_trigger
    assert [a.run_function for a in compose.actions] == [f"{URL}/addon/compose"]
    assert compose.draft_access.name == "METADATA"
    assert deployment.add_ons.http_options.authorization_header.name == "SYSTEM_ID_TOKEN"


def test_granular_consent_is_opted_in() -> None:
    """Documented (HTTP add-ons must support granular consent) but absent from the
    published proto: checked by name and value."""
    data = json.loads(rendered())
    assert data["addOns"]["httpOptions"]["granularOauthPermissionSupport"] == "OPT_IN"


def test_every_endpoint_is_the_service_url() -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    functions: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("runFunction", "onTriggerFunction"):
                    functions.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(text))
    assert functions and all(f.startswith("${SERVICE_URL}/addon/") for f in functions)


def _edit(path: tuple[str, ...], value: Any) -> str:
    data = json.loads(rendered())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize("text", [
    pytest.param(_edit(("addOns", "gmail", "composeTrigger", "selectActions"), []),
                 id="invented-field"),
    pytest.param(_edit(("addOns", "common", "useLocaleFromAp"), True), id="misspelt-field"),
    pytest.param(_edit(("addOns", "gmail", "composeTrigger", "draftAccess"), "ALL"),
                 id="unknown-enum"),
    pytest.param(_edit(("addOns", "httpOptions", "granularOauthPermissionSupport"), "YES"),
                 id="bad-granular-value"),
    pytest.param(_edit(("oauthScopes",), "gmail.compose"), id="scopes-not-a-list"),
    pytest.param(_edit(("addOns", "httpOptions", "somethingNew"), 1), id="unknown-http-option"),
    pytest.param("{not json", id="not-json"),
    pytest.param("[]", id="not-an-object"),
])
def test_what_google_would_refuse_is_refused(text: str) -> None:
    with pytest.raises(DescriptorError):
        parse_descriptor(text)
