"""``sendguard dev`` (what ``make run`` calls): the whole add-on on one machine, no Google.

It starts, all on loopback: the local Gmail emulator, a certificate server for a local token
issuer, and the service itself (a threaded werkzeug server) with the compose simulator at
``/dev/``. The service verifies every add-on request exactly as in production: the
simulator gets its ID tokens from the local issuer, whose certificates the service fetches
from ``SENDGUARD_GOOGLE_CERTS_URL``. Embedded defaults: SQLite and the development master
key under ``./var``, a development policy whose internal domain is the dev user's and
whose held passwords are released after 30 seconds (so a newcomer sees a release).

Key delivery works end to end too: ``SENDGUARD_BASE_URL`` is the dev server's own URL
(the ``/k/`` links in notices open locally), mail goes to the file sink under
``var/mail`` (listed on the simulator page), and a background loop does what Cloud
Scheduler does in production: a release round every few seconds.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from service.devtools.devcontext import (
    CONTEXT,
    DEV_AUDIENCE,
    DEV_CLIENT_ID,
    DEV_SERVICE_ACCOUNT,
    RELEASE_EVERY,
    DevContext,
)
from service.settings import Config

log = logging.getLogger(__name__)

DEV_USER = "taro.yamada@example.co.jp"
RELEASE_INTERVAL = 5.0          # seconds between release rounds (Scheduler's job locally)
DEV_POLICY = """\
# Written by `sendguard dev` because SENDGUARD_POLICY is not set. Edit freely: the dev
# server reloads this file within a few seconds of a change (a broken edit is reported
# in its log and the previous policy stays in force). `sendguard serve` reads its policy
# once, at start: restart it after a change.
[organization]
internal_domains = ["{domain}"]

[delivery]
# Short, so you see a held password released while you watch (production default: 5m).
release_delay = "30s"
"""


@dataclass
class DevStack:
    """A running emulator + certificate server + service; ``stop()`` ends all three."""

    app: Flask
    config: Config
    context: DevContext
    url: str
    _stops: list[Any] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        for stop in reversed(self._stops):
            try:
                stop()
            except Exception:   # keep stopping the rest
                log.exception("stopping a dev server part failed")
        self._stops.clear()


def _stop_server(server: BaseWSGIServer) -> None:
    server.shutdown()
    server.server_close()


class _LateApp:
    """The WSGI app, set once the server has its port (the base URL needs the port)."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self.app(environ, start_response)


def _url(host: str, port: int) -> str:
    """How a browser on this machine reaches the server (not the wildcard it binds)."""
    if host in ("", "0.0.0.0"):  # noqa: S104 - compared, not bound
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class PolicyWatcher:
    """Reloads the dev policy when its file changes; a broken edit keeps the old one.

    Development only (``serve`` reads its policy once): one log line per change."""

    def __init__(self, app: Flask) -> None:
        self.services = app.extensions["sendguard"]
        self.path = self.services.config.policy_path
        self.seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path) if self.path else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size) if st else None

    def check(self) -> bool:
        """True when a changed file was loaded now."""
        from service.errors import PolicyError
        from service.policy.policyfile import load_policy

        stamp = self._stamp()
        if stamp == self.seen or self.path is None:
            return False
        self.seen = stamp
        try:
            policy = load_policy(self.path)
        except PolicyError as exc:
            log.warning("policy not reloaded, the previous one stays in force: %s",
                        exc.public_message)
            return False
        self.services._policy = policy
        log.info("policy reloaded from %s", self.path)
        return True


def release_loop(app: Flask, stop: threading.Event, interval: float) -> None:
    """Release rounds until ``stop`` is set: due passwords out, notices retried; the
    dev policy reloaded when its file changed."""
    from service.delivery.release import release_tick

    sv = app.extensions["sendguard"]
    watcher = PolicyWatcher(app)
    while True:
        try:
            watcher.check()
            release_tick(sv.store, sv.mailer, sv.config, sv.keywrapper, sv.clock())
        except Exception as exc:   # keep releasing: a failed round is retried by the next
            log.warning("dev release round failed: %s: %s", type(exc).__name__,
                        str(exc).splitlines()[0][:200] if str(exc) else "")
        if stop.wait(interval):
            return


def _start_release_loop(app: Flask, interval: float) -> Any:
    stop = threading.Event()
    thread = threading.Thread(target=release_loop, args=(app, stop, interval),
                              name="sendguard-dev-release", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(10)
    return halt


GMAIL_RULES = ("reject", "quarantine", "report", "off")
REJECT_NOTICE = (
    "This message was NOT sent: your organisation sends mail only after SendGuard's check. "
    "Open the draft again and use SendGuard › Check & send (or Encrypt & send) instead of "
    "Gmail's Send button. / このメールは送信されていません。下書きを開き直し、SendGuard の"
    "［確認して送信］を使ってください。")


def gmail_rule(mode: str, domain: str) -> dict[str, Any]:
    """The content compliance rule ``deploy.sh --print-gmail-rules --mode MODE`` describes,
    in the emulator's shape (``service.devtools.gmail_emulator.compliance.Rule``)."""
    rule: dict[str, Any] = {"description": "SendGuard – unchecked outbound",
                            "match": "not_contains", "content": "X-SendGuard-Checked: v1;"}
    if mode == "reject":
        return {**rule, "action": "reject", "notice": REJECT_NOTICE}
    if mode == "quarantine":
        return {**rule, "action": "quarantine", "quarantine": "SendGuard – unchecked"}
    if mode == "report":
        return {**rule, "action": "modify", "add_headers": {"X-SendGuard-Bypass": "1"},
                "also_deliver_to": [f"sendguard-audit@{domain}"]}
    raise ValueError(f"no Gmail rule mode {mode!r}")


def _dev_config(base: Config, *, var_dir: Path, certs_url: str, gmail_url: str,
                policy_path: str | None, url: str, enforce: bool = False) -> Config:
    return base.with_(
        enforce_check_send=base.enforce_check_send or enforce,
        base_url=base.base_url or url,
        var_dir=var_dir,
        google_certs_url=certs_url,
        gmail_api_endpoint=gmail_url,
        addon_audience=DEV_AUDIENCE,
        addon_service_account=DEV_SERVICE_ACCOUNT,
        oauth_client_id=DEV_CLIENT_ID,
        policy_path=policy_path,
    )


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's request log without the simulator's polling: a successful request under
    ``/dev/`` is not logged, so the URL printed at start stays on screen. Every other line
    goes through the root logger, whose handler redacts ``/k/`` tokens and codes."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if str(code).isdigit() else 0
        if self.path.startswith("/dev/") and status < 400:
            return
        super().log_request(code, size)


def _policy_file(var_dir: Path, user: str) -> str:
    path = var_dir / "dev-policy.toml"
    if not path.exists():
        path.write_text(DEV_POLICY.format(domain=user.rpartition("@")[2]), encoding="utf-8")
    return str(path)


def start_stack(*, host: str = "127.0.0.1", port: int = 8080, user: str = DEV_USER,
                var_dir: Path | None = None, policy_path: str | None = None,
                base: Config | None = None,
                release_interval: float | None = RELEASE_INTERVAL,
                gmail_rules: str = "reject") -> DevStack:
    """Start everything; port 0 picks a free port; ``release_interval`` None: no release
    loop; ``gmail_rules``: the organisation's rule on mail sent without SendGuard (the
    emulator applies it; "reject" and "quarantine" also tell the home card).
    ``SENDGUARD_BASE_URL`` becomes the server's URL unless the environment sets it.
    Refuses production configurations."""
    from service.app import create_app
    from service.devtools import simulator
    from service.devtools.gmail_emulator.emulator import GmailEmulator, emulator_url, serve_emulator
    from service.devtools.tokens import LocalIssuer, refuse_in_production, serve_certs

    base = base or Config.from_env()
    refuse_in_production(base)
    var = var_dir or base.var_dir
    var.mkdir(mode=0o700, parents=True, exist_ok=True)
    stops: list[Any] = []
    try:
        issuer = LocalIssuer(config=base)
        certs_url, certs = serve_certs(issuer, host, config=base)
        stops.append(certs)
        emulator = GmailEmulator(default_user=None)
        oauth_token = secrets.token_urlsafe(24)
        from service.addon.scopes import ALL_SCOPES  # what the add-on's users grant

        emulator.add_user(user, oauth_token, ALL_SCOPES)
        if gmail_rules != "off":
            emulator.set_rules([gmail_rule(gmail_rules, user.rpartition("@")[2])])
        gmail_server, _ = serve_emulator(host, 0, emulator=emulator)
        stops.append(lambda: _stop_server(gmail_server))
        late = _LateApp()
        server: BaseWSGIServer = make_server(host, port, late, threaded=True,
                                             request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, name="sendguard-dev",
                                  kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        stops.append(lambda: _stop_server(server))
        url = _url(host, server.server_port)
        config = _dev_config(base, var_dir=var, certs_url=certs_url,
                             gmail_url=emulator_url(gmail_server),
                             policy_path=policy_path or base.policy_path
                             or _policy_file(var, user), url=url,
                             enforce=gmail_rules in ("reject", "quarantine"))
        app = create_app(config)
        simulator.init_app(app)       # /dev/: only the dev stack has it
        ctx = DevContext(issuer, user.lower(), oauth_token,
                         gmail_endpoint=config.gmail_api_endpoint, emulator=emulator)
        app.extensions[CONTEXT] = ctx
        app.extensions[RELEASE_EVERY] = release_interval
        late.app = app
        if release_interval:
            stops.append(_start_release_loop(app, release_interval))
    except BaseException:
        for stop in reversed(stops):
            stop()
        raise
    return DevStack(app, config, ctx, url, stops)


def run_until_interrupted(stack: DevStack) -> int:
    """Say where everything is, then serve until Ctrl-C; stops every part."""
    print(f"SendGuard is running. Open {stack.url}/dev/ to compose as {stack.context.user_email}.",
          flush=True)
    print("Gmail emulator: " + stack.context.gmail_endpoint + "  (Ctrl-C stops everything)",
          flush=True)
    print(f"Key links use {stack.config.base_url}; mail goes to "
          f"{stack.config.var_dir / 'mail'} (listed on the simulator page).", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()
    return 0
