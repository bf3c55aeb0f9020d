"""Service configuration from the environment, Cloud Run style (SPEC section 7).

Development (the default) runs on embedded parts: SQLite and a generated master key under
``./var``, a local mail sink, the local Gmail emulator. Production
(``SENDGUARD_ENV=production``) refuses to start without real settings and never falls back
to a development secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from service.errors import ConfigError, SendGuardError
from service.gmail.endpoint import GMAIL_API_ENDPOINT

GOOGLE_CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"


def _flag(e: Mapping[str, str], name: str) -> bool:
    value = e.get(name, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be true or false, not {value!r}")


@dataclass(frozen=True)
class Config:
    """The service's settings, from the environment (``from_env``) or given in tests."""

    env: str = "development"
    port: int = 8080
    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/sendguard.db"
    base_url: str = ""
    policy_path: str | None = None
    addon_audience: str = ""
    addon_service_account: str = ""
    oauth_client_id: str = ""
    scheduler_service_account: str = ""   # OIDC e-mail allowed to call /tasks/release-due
    google_certs_url: str = GOOGLE_CERTS_URL
    gmail_api_endpoint: str = GMAIL_API_ENDPOINT
    master_key: str = ""            # hex keys, comma separated: first encrypts, all decrypt
    kms_key: str = ""
    stamp_key: str = ""             # "<key id>:<hex>", comma separated: first signs, all verify
    enforce_check_send: bool = False   # the organisation rejects mail without a stamp (10.5)
    # the descriptor asks for gmail.metadata (deploy.sh --history-sent-import): seed users'
    # history from their Sent folder when they grant it (service.addon.sent_import)
    history_sent_import: bool = False
    mailer: str = ""                # smtp://host:port, or "sink" (development)
    mail_from: str = "SendGuard <no-reply@sendguard.invalid>"
    db_pool_size: int = 5
    files: str = ""                 # SENDGUARD_FILES: gs://BUCKET/PREFIX or a directory
    key_retention: str = "30d"      # erase keys of packages ended this long ago; "off" never
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        e = os.environ if environ is None else environ
        env = e.get("SENDGUARD_ENV", "development").strip().lower() or "development"
        if env not in ("development", "production", "test"):
            raise ConfigError(f"SENDGUARD_ENV must be development, production or test, not {env!r}")
        try:
            port = int(e.get("PORT", "8080"))
            pool = int(e.get("SENDGUARD_DB_POOL_SIZE", "5"))
        except ValueError as exc:
            raise ConfigError(f"PORT and SENDGUARD_DB_POOL_SIZE must be numbers: {exc}") from None
        var_dir = Path(e.get("SENDGUARD_VAR_DIR", "var"))
        cfg = cls(
            env=env,
            port=port,
            var_dir=var_dir,
            database_url=e.get("DATABASE_URL", f"sqlite:///{var_dir}/sendguard.db"),
            base_url=e.get("SENDGUARD_BASE_URL", "").rstrip("/"),
            policy_path=e.get("SENDGUARD_POLICY") or None,
            addon_audience=e.get("SENDGUARD_ADDON_AUDIENCE", ""),
            addon_service_account=e.get("SENDGUARD_ADDON_SERVICE_ACCOUNT", ""),
            oauth_client_id=e.get("SENDGUARD_OAUTH_CLIENT_ID", ""),
            scheduler_service_account=e.get("SENDGUARD_SCHEDULER_SERVICE_ACCOUNT", ""),
            google_certs_url=e.get("SENDGUARD_GOOGLE_CERTS_URL", GOOGLE_CERTS_URL),
            gmail_api_endpoint=e.get("SENDGUARD_GMAIL_API_ENDPOINT", GMAIL_API_ENDPOINT),
            master_key=e.get("SENDGUARD_MASTER_KEY", ""),
            kms_key=e.get("SENDGUARD_KMS_KEY", ""),
            stamp_key=e.get("SENDGUARD_STAMP_KEY", "").strip(),
            enforce_check_send=_flag(e, "SENDGUARD_ENFORCE_CHECK_SEND"),
            history_sent_import=_flag(e, "SENDGUARD_HISTORY_SENT_IMPORT"),
            mailer=e.get("SENDGUARD_MAILER", ""),
            mail_from=e.get("SENDGUARD_MAIL_FROM", cls.mail_from),
            db_pool_size=pool,
            files=e.get("SENDGUARD_FILES", "").strip(),
            key_retention=e.get("SENDGUARD_KEY_RETENTION", "30d").strip() or "30d",
        )
        cfg.retention()  # a bad value fails at start, not at the first hourly purge
        if cfg.stamp_key:
            from service.stamp.keys import parse_stamp_keys

            parse_stamp_keys(cfg.stamp_key)   # a bad key fails at start, not at a send
        if cfg.production:
            cfg.check_production()
        return cfg

    def check_production(self) -> None:
        """Name every missing production setting at once."""
        missing = []
        if not (self.master_key or self.kms_key):
            missing.append("SENDGUARD_MASTER_KEY or SENDGUARD_KMS_KEY")
        if not self.stamp_key:
            missing.append("SENDGUARD_STAMP_KEY")
        for name, value in (
            ("SENDGUARD_BASE_URL", self.base_url),
            ("SENDGUARD_ADDON_AUDIENCE", self.addon_audience),
            ("SENDGUARD_ADDON_SERVICE_ACCOUNT", self.addon_service_account),
            ("SENDGUARD_OAUTH_CLIENT_ID", self.oauth_client_id),
            ("SENDGUARD_MAILER", self.mailer),
            ("SENDGUARD_SCHEDULER_SERVICE_ACCOUNT", self.scheduler_service_account),
        ):
            if not value:
                missing.append(name)
        if missing:
            raise ConfigError("production needs: " + ", ".join(missing))
        if self.base_url and not self.base_url.startswith("https://"):
            raise ConfigError("SENDGUARD_BASE_URL must be https:// in production")
        if self.mailer in ("sink", "memory"):
            raise ConfigError("SENDGUARD_MAILER must be a real mailer in production")
        if self.database_url.startswith("sqlite"):
            raise ConfigError("DATABASE_URL must point at PostgreSQL in production")

    def retention(self) -> timedelta | None:
        """``SENDGUARD_KEY_RETENTION`` as a period, or None when "off"."""
        if self.key_retention.lower() == "off":
            return None
        from service.durations import parse_duration

        try:
            return parse_duration(self.key_retention, "SENDGUARD_KEY_RETENTION")
        except SendGuardError as exc:
            raise ConfigError(exc.public_message) from None

    def with_(self, **changes: object) -> Config:
        return replace(self, **changes)  # type: ignore[arg-type]
