"""A local token issuer whose certificates a loopback HTTP server serves, so google-auth's
real verification runs (SPEC section 8). Import the fixtures into a conftest to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.devtools.tokens import LocalIssuer, serve_certs


@pytest.fixture(scope="session")
def issuer() -> LocalIssuer:
    return LocalIssuer()


@pytest.fixture(scope="session")
def certs_url(issuer: LocalIssuer) -> Iterator[str]:
    url, server = serve_certs(issuer)
    yield url
    server.stop()
