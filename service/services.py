"""The resources a request may need, built once per app and attached with ``init_app``.

Each is created on first use, so a test can hand in in-memory implementations (an
``InMemoryGmailClient``, a SQLite ``Store``, a fixed clock) and nothing is built at import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Flask, current_app

from service.settings import Config

if TYPE_CHECKING:
    from service.auth import MailboxBinding, RequestVerifier
    from service.files.store import FileStore
    from service.gmail.client import GmailClient
    from service.idtokens import CertificateCache
    from service.mailer import Mailer
    from service.policy.policyfile import Policy
    from service.protect.keywrap import KeyWrapper
    from service.stamp.keys import StampKeys
    from service.storage import Store


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    config: Config
    clock: Callable[[], datetime] = utcnow
    _policy: Policy | None = None
    _verifier: RequestVerifier | None = None
    _certs: CertificateCache | None = None
    _mailboxes: MailboxBinding | None = None
    _store: Store | None = None
    _keywrapper: KeyWrapper | None = None
    _mailer: Mailer | None = None
    _files: FileStore | None = None
    _stamp_keys: StampKeys | None = None
    gmail_factory: Callable[[str], GmailClient] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def init_app(self, app: Flask) -> None:
        app.extensions["sendguard"] = self

    @property
    def policy(self) -> Policy:
        if self._policy is None:
            from service.policy.policyfile import load_policy

            self._policy = load_policy(self.config.policy_path)
        return self._policy

    @property
    def google_certs(self) -> CertificateCache:
        """Google's signing keys, one cache per app: the add-on's verifier and the
        scheduler's task call check tokens against the same keys (one fetch, not two)."""
        with self._lock:
            return self._google_certs()

    def _google_certs(self) -> CertificateCache:
        if self._certs is None:
            from service.idtokens import CertificateCache

            self._certs = CertificateCache(self.config.google_certs_url)
        return self._certs

    @property
    def verifier(self) -> RequestVerifier:
        with self._lock:
            if self._verifier is None:
                from service.auth import RequestVerifier

                self._verifier = RequestVerifier(
                    self._google_certs(),
                    audience=self.config.addon_audience,
                    service_account=self.config.addon_service_account,
                    oauth_client_id=self.config.oauth_client_id,
                    workspace_domains=self.workspace_domains,
                )
            return self._verifier

    def workspace_domains(self) -> tuple[str, ...]:
        """Whose users may use the add-on: ``[organization] workspace_domains``, else the
        internal domains; none at all still refuses consumer (non-Workspace) accounts."""
        policy = self.policy
        return policy.workspace_domains or policy.internal_domains

    @property
    def mailboxes(self) -> MailboxBinding:
        """Checks that a request's Gmail access token opens the verified user's mailbox."""
        with self._lock:
            if self._mailboxes is None:
                from service.auth import GmailProfileLookup, MailboxBinding

                self._mailboxes = MailboxBinding(
                    GmailProfileLookup(self.config.gmail_api_endpoint))
            return self._mailboxes

    def gmail(self, user_token: str) -> GmailClient:
        if self.gmail_factory is not None:
            return self.gmail_factory(user_token)
        from service.gmail.client import ApiGmailClient

        return ApiGmailClient(user_token, self.config.gmail_api_endpoint)

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                from service.storage import Store

                self._store = Store.from_url(self.config.database_url,
                                             pool_size=self.config.db_pool_size)
                if not self.config.production:
                    self.config.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
                    self._store.upgrade()
            return self._store

    @property
    def keywrapper(self) -> KeyWrapper:
        with self._lock:
            if self._keywrapper is None:
                from service.protect.keywrap import wrapper_from_config

                self._keywrapper = wrapper_from_config(self.config)
            return self._keywrapper

    @property
    def mailer(self) -> Mailer:
        with self._lock:
            if self._mailer is None:
                from service.mailer import mailer_from_config

                self._mailer = mailer_from_config(self.config)
            return self._mailer

    @property
    def files(self) -> FileStore:
        """Where link-mode files are stored (``SENDGUARD_FILES``)."""
        with self._lock:
            if self._files is None:
                from service.files.store import parse_files_url

                self._files = parse_files_url(self.config.files, self.config.var_dir)
            return self._files

    @property
    def stamp_keys(self) -> StampKeys:
        """``SENDGUARD_STAMP_KEY``; on embedded defaults the key under ``var`` (made once)."""
        with self._lock:
            if self._stamp_keys is None:
                from service.stamp.keys import keys_for

                self._stamp_keys = keys_for(self.config)
            return self._stamp_keys

    def close(self) -> None:
        if self._mailboxes is not None:
            self._mailboxes.close()
        if self._store is not None:
            self._store.close()


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    svc: Services = current_app.extensions["sendguard"]
    return svc
