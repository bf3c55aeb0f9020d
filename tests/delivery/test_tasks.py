"""``POST /tasks/release-due`` takes only Cloud Scheduler's OIDC token: signed by Google
(here a local issuer whose certificates are served over HTTP and checked by google-auth),
for this URL, from the scheduler's service account. Anything else: 401, nothing released."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient

from service.app import create_app
from service.devtools.tokens import LocalIssuer
from service.services import Services
from service.settings import Config
from service.storage import Store
from tests.support.smtp import SmtpServer
from tests.support.tokens import certs_url, issuer

from .conftest import SendDraft
from .helpers import BASE_URL, PARTNER, Clock

SCHEDULER = "release-scheduler@sendguard-prod.iam.gserviceaccount.com"
AUDIENCE = BASE_URL + "/tasks/release-due"


__all__ = ["certs_url", "issuer"]


@pytest.fixture
def task_client(services_for: Callable[..., Services], config: Config,
                certs_url: str) -> Callable[..., FlaskClient]:
    def make(**changes: Any) -> FlaskClient:
        settings = {"google_certs_url": certs_url, "scheduler_service_account": SCHEDULER,
                    **changes}
        cfg = config.with_(**settings)
        return create_app(cfg, services=services_for(**settings)).test_client()
    return make


def _token(issuer: LocalIssuer, **kw: Any) -> str:
    kw.setdefault("audience", AUDIENCE)
    kw.setdefault("email", SCHEDULER)
    return issuer.mint({"iss": "https://accounts.google.com", "aud": kw.pop("audience"),
                        "email": kw.pop("email"), "email_verified": kw.pop("verified", True),
                        "sub": "1234567890"}, **kw)


def test_valid_scheduler_token_releases_due_keys(task_client: Callable[..., FlaskClient],
                                                 issuer: LocalIssuer, send_draft: SendDraft,
                                                 clock: Clock, smtp: SmtpServer,
                                                 store: Store) -> None:
    package = send_draft((PARTNER,))
    client = task_client()
    clock.advance(300)
    resp = client.post("/tasks/release-due",
                       headers={"Authorization": f"Bearer {_token(issuer)}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json() == {"released": 1, "expired": 0, "notices_sent": 1,
                               "notices_failed": 0, "waiting": 0, "purged": 0}
    assert smtp.wait_for(1)[0].rcpt_tos == (PARTNER,)
    assert store.get_package(package.id).state == "released"


_OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

BAD: list[Any] = [
    pytest.param(lambda i: None, {}, id="missing"),
    pytest.param(lambda i: "Basic dXNlcjpwYXNz", {}, id="not-bearer"),
    pytest.param(lambda i: "Bearer not-a-jwt", {}, id="garbage"),
    pytest.param(lambda i: f"Bearer {_token(i, key_override=_OTHER_KEY)}", {}, id="forged"),
    pytest.param(lambda i: f"Bearer {_token(i, audience=BASE_URL + '/addon')}", {},
                 id="wrong-audience"),
    pytest.param(lambda i: f"Bearer {_token(i, audience='https://evil.example/tasks/release-due')}",
                 {}, id="other-service"),
    pytest.param(lambda i: f"Bearer {_token(i, email='someone@gmail.com')}", {},
                 id="wrong-service-account"),
    pytest.param(lambda i: f"Bearer {_token(i, verified=False)}", {}, id="unverified"),
    pytest.param(lambda i: f"Bearer {_token(i, now=time.time() - 7200)}", {}, id="expired"),
    pytest.param(lambda i: f"Bearer {_token(i)}", {"scheduler_service_account": ""},
                 id="no-scheduler-configured"),
    pytest.param(lambda i: f"Bearer {_token(i)}", {"base_url": ""}, id="no-base-url"),
]


@pytest.mark.parametrize("authorization,changes", BAD)
def test_anything_else_is_401_and_releases_nothing(
        task_client: Callable[..., FlaskClient], issuer: LocalIssuer, send_draft: SendDraft,
        clock: Clock, smtp: SmtpServer, store: Store,
        authorization: Callable[[LocalIssuer], str | None], changes: dict[str, str]) -> None:
    package = send_draft((PARTNER,))
    client = task_client(**changes)
    clock.advance(300)
    header = authorization(issuer)
    resp = client.post("/tasks/release-due",
                       headers={"Authorization": header} if header else {})
    assert resp.status_code == 401
    assert resp.get_json() == {"error": "unauthorized"}
    assert store.get_package(package.id).state == "held" and smtp.messages == []


def test_get_is_not_allowed(task_client: Callable[..., FlaskClient]) -> None:
    assert task_client().get("/tasks/release-due").status_code == 405


def test_the_task_and_the_add_on_share_one_copy_of_googles_keys(
        services_for: Callable[..., Services], issuer: LocalIssuer) -> None:
    """One fetch of Google's certificates serves the scheduler's call and the add-on."""
    from service.devtools.tokens import serve_certs

    url, server = serve_certs(issuer)
    try:
        addon = {"addon_audience": BASE_URL + "/addon", "oauth_client_id": "1-x.apps",
                 "addon_service_account": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"}
        services = services_for(google_certs_url=url, scheduler_service_account=SCHEDULER,
                                **addon)
        client = create_app(services.config, services=services).test_client()
        resp = client.post("/tasks/release-due",
                           headers={"Authorization": f"Bearer {_token(issuer)}"})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert server.fetches == 1
        services.verifier.verify_system_token(issuer.system_token(
            audience=addon["addon_audience"], service_account=addon["addon_service_account"]))
        assert server.fetches == 1, "the add-on's verifier fetched Google's keys again"
    finally:
        server.stop()
