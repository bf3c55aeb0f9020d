"""What the compose simulator needs from the dev stack that built its app: tokens for the
dev user and the Gmail emulator. The dev server stores it on ``app.extensions``; the
simulator reads it (apart from both, so neither imports the other)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import Flask

if TYPE_CHECKING:
    from service.devtools.gmail_emulator.emulator import GmailEmulator
    from service.devtools.tokens import LocalIssuer

DEV_AUDIENCE = "https://sendguard.dev.invalid/addon"
DEV_SERVICE_ACCOUNT = "service-000000000000@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
DEV_CLIENT_ID = "000000000000-sendguard-dev.apps.googleusercontent.com"
CONTEXT = "sendguard.dev"
RELEASE_EVERY = "sendguard.dev.release_interval"


@dataclass
class DevContext:
    """What the simulator needs to act as Gmail: tokens for the user, the emulator."""

    issuer: LocalIssuer
    user_email: str
    oauth_token: str = field(repr=False)
    audience: str = DEV_AUDIENCE
    service_account: str = DEV_SERVICE_ACCOUNT
    client_id: str = DEV_CLIENT_ID
    gmail_endpoint: str = ""
    emulator: GmailEmulator | None = None

    def tokens(self) -> dict[str, str]:
        """Fresh system and user ID tokens, as Google would send with each request."""
        return {
            "systemIdToken": self.issuer.system_token(audience=self.audience,
                                                      service_account=self.service_account),
            "userIdToken": self.issuer.user_token(audience=self.client_id,
                                                  email=self.user_email),
            "userOAuthToken": self.oauth_token,
        }


def context(app: Flask) -> DevContext | None:
    ctx = app.extensions.get(CONTEXT)
    return ctx if isinstance(ctx, DevContext) else None
