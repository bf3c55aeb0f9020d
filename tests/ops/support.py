"""Running SendGuard as it runs in production, for the operations tests: real ``sendguard
serve`` processes (granian, ``SENDGUARD_ENV=production``) on one real PostgreSQL, their
JSON logs in files, and a key-page visitor speaking plain HTTP to any of them.

The service's base URL is https (production refuses anything else), so its CSRF cookie
is ``__Host-``/Secure; over loopback HTTP the visitor carries that cookie by hand, as a
browser behind Cloud Run's TLS front end would.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from service.delivery.csrf import SECURE_COOKIE
from service.delivery.packages import create_package_for
from service.delivery.release import release_package
from service.mailer import SmtpMailer
from service.policy.policyfile import Policy
from service.protect.keywrap import LocalKeyWrapper
from service.settings import Config
from service.storage import Package, Store
from tests.support.smtp import Received, SmtpServer

BASE_URL = "https://keys.sendguard-ops.example.jp"
TASK_AUDIENCE = BASE_URL + "/tasks/release-due"
SCHEDULER = "release-scheduler@sendguard-ops.iam.gserviceaccount.com"
PROJECT = "sendguard-ops"
SENDER = "sato@corp.example.jp"
ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')
COOKIE = re.compile(re.escape(SECURE_COOKIE) + r"=([^;,\s]+)")
LINK = re.compile(re.escape(BASE_URL) + r"/k/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])")
CODE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
PASSWORD = re.compile(r'id="password">([^<]+)<')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http() -> requests.Session:
    session = requests.Session()
    session.trust_env = False          # loopback only: no proxy from the environment
    return session


@dataclass
class Instance:
    """One ``sendguard serve`` process (one server worker), like one Cloud Run instance."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stdout_lines(self) -> list[str]:
        return self.stdout.read_text(encoding="utf-8", errors="replace").splitlines()

    def stderr_lines(self) -> list[str]:
        return self.stderr.read_text(encoding="utf-8", errors="replace").splitlines()

    def terminate(self) -> None:
        """SIGTERM, as Cloud Run sends it: the server finishes in-flight requests, exits."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        self.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def stop_all(instances: Iterable[Instance]) -> None:
    items = list(instances)
    for inst in items:
        inst.terminate()
    for inst in items:
        inst.stop()


def server_env(*, name: str, database_url: str, master_key: str, mailer: str,
               certs_url: str, home: Path, pool_size: int = 5) -> dict[str, str]:
    """A production environment, as deploy.sh gives Cloud Run (secrets included)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SENDGUARD_", "GUNICORN_")) and k not in (
               "DATABASE_URL", "PORT", "HOST", "GOOGLE_CLOUD_PROJECT")}
    sep = "&" if "?" in database_url else "?"
    env.update({
        "SENDGUARD_ENV": "production",
        "DATABASE_URL": f"{database_url}{sep}application_name=sendguard-{name}",
        "SENDGUARD_DB_POOL_SIZE": str(pool_size),
        "SENDGUARD_MASTER_KEY": master_key,
        "SENDGUARD_STAMP_KEY": "ops1:" + "5a" * 32,
        "SENDGUARD_BASE_URL": BASE_URL,
        "SENDGUARD_MAILER": mailer,
        "SENDGUARD_MAIL_FROM": "SendGuard <no-reply@sendguard-ops.example.jp>",
        "SENDGUARD_ADDON_AUDIENCE": BASE_URL,
        "SENDGUARD_ADDON_SERVICE_ACCOUNT": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
        "SENDGUARD_OAUTH_CLIENT_ID": "1234-ops.apps.googleusercontent.com",
        "SENDGUARD_SCHEDULER_SERVICE_ACCOUNT": SCHEDULER,
        "SENDGUARD_GOOGLE_CERTS_URL": certs_url,
        "SENDGUARD_VAR_DIR": str(home / "var"),
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "SENDGUARD_GRACEFUL_TIMEOUT": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
        # Each instance its own home, as separate containers have.
        "HOME": str(home),
        "LANG": "C.UTF-8",
    })
    return env


def start_instances(specs: Iterable[tuple[str, Mapping[str, str], int]],
                    logs: Path) -> list[Instance]:
    """Start ``(name, env, threads)`` servers together; wait until each answers
    ``/healthz`` (so its worker reached PostgreSQL)."""
    started: list[Instance] = []
    try:
        for name, env, threads in specs:
            port = free_port()
            out, err = logs / f"{name}.stdout.log", logs / f"{name}.stderr.log"
            with out.open("wb") as stdout, err.open("wb") as stderr:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1",
                     "--port", str(port), "--workers", "1", "--threads", str(threads)],
                    env=dict(env), cwd=env["HOME"], stdout=stdout, stderr=stderr,
                    start_new_session=True)
            started.append(Instance(name, port, proc, out, err))
        deadline = time.monotonic() + START_TIMEOUT_S
        with http() as client:
            for inst in started:
                while True:
                    if inst.proc.poll() is not None:
                        raise RuntimeError(f"{inst.name} exited: "
                                           + "\n".join(inst.stderr_lines()[-20:]))
                    try:
                        if client.get(inst.url + "/healthz", timeout=2).status_code == 200:
                            break
                    except requests.ConnectionError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{inst.name} did not become healthy")
                    time.sleep(0.05)
    except BaseException:
        stop_all(started)
        raise
    return started


@dataclass
class Visitor:
    """One recipient's browser on the key page: its CSRF cookie and form token travel
    with it from one instance to the other, as behind a load balancer."""

    token: str
    cookie: str = ""
    csrf: str = ""
    trace: str = field(default_factory=lambda: secrets.token_hex(16))

    def _headers(self) -> dict[str, str]:
        headers = {"X-Cloud-Trace-Context": f"{self.trace}/1;o=1",
                   "Accept-Language": "ja,en;q=0.8"}
        if self.cookie:
            headers["Cookie"] = f"{SECURE_COOKIE}={self.cookie}"
        return headers

    def _remember(self, resp: requests.Response) -> requests.Response:
        m = COOKIE.search(resp.headers.get("Set-Cookie", ""))
        if m:
            self.cookie = m.group(1)
        m = CSRF_FIELD.search(resp.text)
        if m:
            self.csrf = m.group(1)
        return resp

    def open(self, inst: Instance) -> requests.Response:
        with http() as client:    # one connection per request: safe from many threads
            return self._remember(client.get(f"{inst.url}/k/{self.token}",
                                             headers=self._headers(), timeout=30))

    def post(self, inst: Instance, action: str, code: str | None = None, *,
             form: bool = True) -> requests.Response:
        """POST the page's form; ``form=False`` posts without having loaded it (no CSRF
        token, as a forged cross-site form would)."""
        if form and not self.csrf:
            self.open(inst)
        data = {"action": action, "csrf": self.csrf}
        if code is not None:
            data["code"] = code
        with http() as client:
            return self._remember(client.post(f"{inst.url}/k/{self.token}", data=data,
                                              headers=self._headers(), timeout=30))

    def request_code(self, inst: Instance) -> requests.Response:
        return self.post(inst, "send_code")

    def reveal(self, inst: Instance, code: str) -> requests.Response:
        return self.post(inst, "reveal", code)


KIND = re.compile(r'id="message" data-kind="([a-z_]+)"')


def message_kind(resp: requests.Response) -> str | None:
    """What the key page told the visitor after a form (a wrong code, a rate limit...),
    or None when it said nothing but went on."""
    m = KIND.search(resp.text)
    return m.group(1) if m else None


def password_on(resp: requests.Response) -> str | None:
    m = PASSWORD.search(resp.text)
    return m.group(1) if resp.status_code == 200 and m else None


def address(label: str) -> str:
    """A recipient address of its own per test: per-address limits never mix."""
    return f"{label}-{secrets.token_hex(4)}@partner.example.com"


def is_code_mail(mail: Received) -> bool:
    return "one-time code" in str(mail.message["Subject"])


def codes_to(smtp: SmtpServer, to: str) -> list[str]:
    """The codes mailed to ``to``, oldest first."""
    found = []
    for mail in smtp.to(to):
        if is_code_mail(mail):
            m = CODE.search(mail.text())
            assert m, "a code mail without a code"
            found.append(m.group(1))
    return found


def links_to(smtp: SmtpServer, to: str, count: int = 1, timeout: float = 10.0) -> list[str]:
    """The link tokens of the key notices mailed to ``to`` (waiting for ``count``)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m.group(1) for mail in smtp.to(to) if (m := LINK.search(mail.text()))]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(found)} key notice(s) reached {to}, not {count}")
        time.sleep(0.02)


def wait_mails(smtp: SmtpServer, to: str, count: int, timeout: float = 10.0,
               codes_only: bool = False) -> list[Received]:
    deadline = time.monotonic() + timeout
    while True:
        got = [m for m in smtp.to(to) if not codes_only or is_code_mail(m)]
        if len(got) >= count or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def avoid_window_edge(window_s: int, need_s: float) -> None:
    """Rate limits count in fixed windows of wall-clock time: start a test that needs
    ``need_s`` seconds inside one window only when that much of it is left."""
    left = window_s - time.time() % window_s
    if left < need_s:
        time.sleep(left + 0.2)


@dataclass
class Deployment:
    """Two production instances on one database, and what the test side shares with
    them: the database, the master key, the mail server, the token issuer."""

    database_url: str
    master_key: str
    instances: list[Instance]
    smtp: SmtpServer
    task_token: str

    @property
    def a(self) -> Instance:
        return self.instances[0]

    @property
    def b(self) -> Instance:
        return self.instances[1]

    def store(self) -> Store:
        return Store.from_url(self.database_url)

    def keywrapper(self) -> LocalKeyWrapper:
        return LocalKeyWrapper(self.master_key)

    def package(self, store: Store, key_to: list[str], *, policy: Policy | None = None,
                due: bool = False, password: str | None = None,
                n: int = 0) -> tuple[Package, str]:
        """A key record made through the delivery API (as Encrypt & send stores it):
        held and due ``due``; returns it with its ZIP password."""
        pol = policy or Policy()
        made = datetime.now(UTC) - (timedelta(seconds=pol.release_delay + 60) if due
                                    else timedelta(0))
        secret = password or f"Zp-{secrets.token_urlsafe(18)}"
        package = create_package_for(
            store, self.keywrapper(), sender=SENDER, recipients=key_to,
            key_recipients=key_to, zip_filename="attachments.zip",
            file_names=[f"見積書-{n}.xlsx"], password=secret, policy=pol, now=made,
            message_id=f"<ops-{secrets.token_hex(6)}@corp.example.jp>")
        return package, secret

    def released(self, store: Store, key_to: list[str], *,
                 policy: Policy | None = None) -> tuple[Package, str]:
        """A package released by its sender now, its notices at the mail server."""
        package, password = self.package(store, key_to, policy=policy)
        config = Config(env="test", base_url=BASE_URL, master_key=self.master_key,
                        mailer=self.smtp.url)
        release_package(store, SmtpMailer(self.smtp.url), config, self.keywrapper(),
                        package.id, SENDER, datetime.now(UTC))
        return store.get_package(package.id), password
