"""The compose card, remembered for unchanged recipients (issue 12: compose CPU).

Gmail calls the compose trigger each time the add-on opens in a compose window and the
sender re-checks; between two calls the recipients rarely change. The card is a pure
function of who is asking, the recipients, the locale, the policy and the
action URLs, so the finished JSON is kept under exactly that key and served again
without re-running the analysis (~0.5 ms of the ~1.5 ms a request cost).

Entries live ``TTL`` seconds (so a finding that someday depends on stored state, such as
recipient history, is at most that old), at most ``MAX_ENTRIES`` of at most
``MAX_BODY`` characters each (a 944-recipient card is built every time), and all of them
are dropped when the policy object changes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

TTL = 60.0
MAX_ENTRIES = 512
MAX_BODY = 64 * 1024


class CardMemo:
    def __init__(self, *, ttl: float = TTL, max_entries: int = MAX_ENTRIES,
                 max_body: int = MAX_BODY, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._max_body = max_body
        self._clock = clock
        self._lock = threading.Lock()
        self._policy: object = None
        self._entries: OrderedDict[Hashable, tuple[str, float]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, policy: object, key: Hashable) -> str | None:
        now = self._clock()
        with self._lock:
            if policy is not self._policy:
                self._entries.clear()
                self._policy = policy
            hit = self._entries.get(key)
            if hit is None or hit[1] <= now:
                if hit is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return hit[0]

    def put(self, policy: object, key: Hashable, body: str) -> None:
        if len(body) > self._max_body:
            return
        with self._lock:
            if policy is not self._policy:
                self._entries.clear()
                self._policy = policy
            self._entries[key] = (body, self._clock() + self._ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


def compose_key(user_email: str, to: tuple[str, ...], cc: tuple[str, ...],
                bcc: tuple[str, ...], locale: str, actions: str) -> Hashable:
    """Everything the compose card depends on besides the policy."""
    return (user_email, to, cc, bcc, locale, actions)
