"""The Sent-folder import on the add-on's side (SPEC 10.2): steps in the background, the
progress on the home card, and the button that asks for the opt-in scope.

The compose card never waits on a mailbox scan. A step (``history_sent_import``: at most
100 messages and 5 seconds) runs in a worker thread, started after one of the user's own
add-on requests (the home card, a compose check) with *that request's* access token: the
token in the event is short-lived (an hour) and is never stored, so steps happen only
while the user uses SendGuard, at most one per user every ``STEP_EVERY_S`` per instance
(and one at a time per user). On Cloud Run a thread may get little CPU once the response
is sent; the cursor makes that harmless: the next request's step goes on from it.

Runs only when the deployment asks for ``gmail.metadata`` (``SENDGUARD_HISTORY_SENT_IMPORT``,
set by ``deploy.sh --history-sent-import``), history is on, and the user granted the scope:
under granular consent a user may decline it, and then nothing changes except that
history grows from the mail sent through SendGuard only.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import Any

from flask import Flask, after_this_request, current_app

from service.addon import markup
from service.addon.event import AddonEvent
from service.addon.scopes import HISTORY_IMPORT_SCOPE
from service.i18n import _, ngettext
from service.services import services

log = logging.getLogger(__name__)

EXTENSION = "sendguard.addon.sent_import"
STEP_EVERY_S = 20.0        # per user and instance, while the scan goes on
IDLE_EVERY_S = 600.0       # once it is done, or the scope is missing
WORKERS = 1                # steps run one at a time per instance: never a load spike


class Runner:
    """One small pool per app; remembers per user when the next step may start."""

    def __init__(self, workers: int = WORKERS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sent-import")
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._busy: set[str] = set()
        self._futures: list[Future[None]] = []
        self._learnt: dict[str, int] = {}          # "user thread" -> times learnt here

    def learnt(self, key: str) -> int:
        return self._learnt.get(key, 0)

    def claim(self, key: str, now: float, every: float | None = None) -> bool:
        """Reserve a step for ``key`` (a user, or a user's thread) if one is due."""
        with self._lock:
            if key in self._busy or self._next.get(key, 0.0) > now:
                return False
            self._busy.add(key)
            self._next[key] = now + (STEP_EVERY_S if every is None else every)
            if len(self._next) > 10_000:              # bounded: forget the oldest half
                for key in sorted(self._next, key=self._next.__getitem__)[:5_000]:
                    self._next.pop(key, None)
            return True

    def submit(self, app: Flask, key: str, user: str, token: str,
               thread: str | None = None) -> None:
        future = self._pool.submit(self._step, app, key, user, token, thread)
        with self._lock:
            self._futures = [f for f in self._futures if not f.done()] + [future]

    def _step(self, app: Flask, key: str, user: str, token: str, thread: str | None) -> None:
        wait = STEP_EVERY_S if thread is None else IDLE_EVERY_S
        try:
            with app.app_context():
                if thread is None:
                    wait = run_step(user, token)
                else:
                    run_thread(user, token, thread)
                    with self._lock:
                        self._learnt[key] = self._learnt.get(key, 0) + 1
                        if len(self._learnt) > 10_000:
                            self._learnt.clear()
        except Exception:                         # never let a step take anything down
            log.exception("sent import step failed")
        finally:
            with self._lock:
                self._busy.discard(key)
                self._next[key] = time.monotonic() + wait

    def wait(self, timeout: float = 30.0) -> None:
        """Until every submitted step has finished (tests, shutdown)."""
        with self._lock:
            futures = list(self._futures)
        wait_all(futures, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def runner(app: Flask | None = None) -> Runner:
    ext = (app or current_app).extensions
    found: Runner | None = ext.get(EXTENSION)
    if found is None:
        found = ext.setdefault(EXTENSION, Runner())
    return found


def enabled() -> bool:
    sv = services()
    return sv.config.history_sent_import and sv.policy.history_enabled


def granted(event: AddonEvent) -> bool:
    """The user granted ``gmail.metadata`` (Google did not say: assume so, Gmail's 403
    will tell)."""
    scopes = event.authorized_scopes
    return scopes is None or HISTORY_IMPORT_SCOPE in scopes


def thread_stamp(user: str, thread_id: str) -> tuple[str, int]:
    """Part of the compose card memo's key: the reply's thread, and how often this
    instance learnt its participants (a card from before that is never served again)."""
    if not thread_id:
        return ("", 0)
    ext = current_app.extensions.get(EXTENSION)
    return (thread_id, 0 if ext is None else ext.learnt(f"{user.lower()} {thread_id}"))


def after_response(caller: Any, event: AddonEvent) -> None:
    """Start one bounded step for this user after the response (cheap when not due: a
    dictionary look-up; the database is read in the worker, not here)."""
    user = (caller.user_email or "").lower()
    if not user or not event.user_oauth_token or not enabled() or not granted(event):
        return
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    run = runner(app)
    token = event.user_oauth_token           # lives in this closure only, for one step
    jobs: list[tuple[str, str | None]] = []
    if event.thread_id and run.claim(f"{user} {event.thread_id}", time.monotonic(),
                                     every=IDLE_EVERY_S):
        jobs.append((f"{user} {event.thread_id}", event.thread_id))
    if run.claim(user, time.monotonic()):
        jobs.append((user, None))
    if not jobs:
        return

    @after_this_request
    def _start(response: Any) -> Any:
        for key, thread in jobs:
            run.submit(app, key, user, token, thread)
        return response


def run_step(user: str, token: str) -> float:
    """One step for ``user``; seconds until the next may start."""
    from service.gmail.sent_reader import SentReader
    from service.history_sent_import import import_step, needs_step

    sv = services()
    now = sv.clock()
    crypto = sv.store.history_crypto(sv.keywrapper, now)
    cursor = sv.store.import_cursor(crypto.h("sender", user))
    if cursor is not None and not needs_step(cursor, now):
        return IDLE_EVERY_S
    with SentReader(token, sv.config.gmail_api_endpoint) as reader:
        result = import_step(sv.store, crypto, reader, user, now)
    if result.error in ("scope", "mailbox") or not result.cursor.scanning:
        return IDLE_EVERY_S
    return STEP_EVERY_S


def run_thread(user: str, token: str, thread: str) -> None:
    """Learn the participants of the reply's thread (``history_threads``)."""
    from service.gmail.sent_reader import ScopeNotGranted, SentReader
    from service.history_threads import learn_thread

    sv = services()
    now = sv.clock()
    crypto = sv.store.history_crypto(sv.keywrapper, now)
    with SentReader(token, sv.config.gmail_api_endpoint) as reader:
        if reader.profile()[0] != user:      # the token must open this user's own mailbox
            log.warning("thread not read: the token opens another mailbox")
            return
        try:
            learn_thread(sv.store, crypto, reader, user, thread, now)
        except ScopeNotGranted:
            return


# --- the home card ------------------------------------------------------------------

def home_section(caller: Any, event: AddonEvent, act: Any) -> dict[str, Any] | None:
    """The import's state for the home card; None when the deployment does not offer it."""
    if not enabled():
        return None
    title = _("history.import.title")
    cursor = None
    try:
        sv = services()
        crypto = sv.store.existing_history_crypto(sv.keywrapper)
        if crypto is not None:
            cursor = sv.store.import_cursor(crypto.h("sender", caller.user_email.lower()))
    except Exception:
        log.warning("sent import progress not loaded")
    declined = not granted(event) or (cursor is not None and cursor.last_error == "scope")
    if declined:
        return markup.section([
            markup.text(_("history.import.offer")),
            markup.buttons(markup.button(_("history.import.allow"),
                                         act("grant_history_import"))),
        ], title)
    if cursor is None:
        line = _("history.import.starting")
    elif cursor.scanning:
        line = ngettext("history.import.progress.one", "history.import.progress", cursor.seen,
                        n=cursor.seen, imported=cursor.imported)
    else:
        line = ngettext("history.import.done.one", "history.import.done", cursor.seen,
                        n=cursor.seen, imported=cursor.imported)
    return markup.section([markup.text(line)], title)


def grant(caller: Any, event: AddonEvent) -> dict[str, Any] | None:
    """The home card's Allow button: Google's consent for ``gmail.metadata`` alone; once
    granted (Google repeats the request), None: the caller answers with the home card,
    the import starting."""
    if not enabled():
        from service.errors import NotFoundError

        raise NotFoundError("the Sent-folder import is not offered here")
    if event.authorized_scopes is not None and HISTORY_IMPORT_SCOPE not in event.authorized_scopes:
        return markup.request_scopes([HISTORY_IMPORT_SCOPE])
    sv = services()
    try:                               # a fresh grant: forget an earlier "declined"
        crypto = sv.store.existing_history_crypto(sv.keywrapper)
        s = None if crypto is None else crypto.h("sender", caller.user_email.lower())
        cursor = None if s is None else sv.store.import_cursor(s)
        if s is not None and cursor is not None and cursor.last_error == "scope":
            cursor.last_error = None
            sv.store.save_import_cursor(s, cursor, sv.clock())
    except Exception:
        log.warning("sent import cursor not reset")
    after_response(caller, event)
    return None
