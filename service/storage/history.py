"""Recipient history storage (SPEC 10.2): what a sender sent to whom, kept so that a
database dump lists nobody's correspondents.

One random 32-byte *history key* exists per database, stored only wrapped by the master key
(or Cloud KMS: one KMS call per process, not per row). From it (HKDF) come an HMAC key for
every value compared by equality (sender, address, domain, local part, normalised name,
message id) and an AES-256-GCM key for what must be read back to compare fuzzily or to
show as evidence (addresses, display names), each bound to its sender by the AAD.

``HistoryStore.history_view(sender)`` is the narrow read side the pure checks ask
(``service.policy.history.HistoryView``); writes are ``record_history`` (one sent message)
and ``record_history_many`` (an import, in batches).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from service.policy.context import HistoryView
from service.policy.exposure import MAX_ASKED  # what one together() question may name
from service.storage import checks
from service.storage.database import Database
from service.storage.history_stamp import history_key_exists, sender_stamp
from service.storage.schema import (
    history_imports,
    history_keys,
    history_messages,
    history_names,
    history_orgs,
    history_recipients,
    history_threads,
    history_together,
)

KEY_AAD = b"sendguard-history-key-v1"
# Rows not used for this long are deleted by the hourly retention round (two years: a
# yearly correspondent stays known, someone not written to since is forgotten).
HISTORY_RETENTION = timedelta(days=730)
MAX_REFERENCES = 20
# A message that showed more people than this is a circular, not a conversation: it
# proves nothing about who already knows whom (``history_together`` keeps none of it).
MAX_TOGETHER = 20


class Wrapper(Protocol):
    """``protect.keywrap.KeyWrapper`` (not imported: storage does not depend on protect)."""

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, aad: bytes) -> bytes: ...


class HistoryCrypto:
    """Keyed hashes and sealing under one history key."""

    def __init__(self, key: bytes) -> None:
        def derive(info: bytes) -> bytes:
            return HKDF(hashes.SHA256(), 32, None, info).derive(key)

        self._mac = derive(b"sendguard-history-hmac")
        self._aead = AESGCM(derive(b"sendguard-history-seal"))

    def h(self, kind: str, value: str) -> bytes:
        return hmac.new(self._mac, kind.encode() + b"\x00" + value.encode("utf-8"),
                        hashlib.sha256).digest()

    def seal(self, value: str, aad: bytes) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + self._aead.encrypt(nonce, value.encode("utf-8"), aad)

    def open(self, blob: bytes, aad: bytes) -> str | None:
        try:
            return self._aead.decrypt(blob[:12], blob[12:], aad).decode("utf-8")
        except (InvalidTag, ValueError, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class SentMessage:
    """One message a sender sent: what history keeps of it (plain, in memory only)."""

    recipients: tuple[tuple[str, str], ...]      # (address, display name as typed)
    message_id: str = ""
    references: tuple[str, ...] = ()
    at: datetime | None = None
    # companies the greeting of the sender's own text names (policy.orgnames keys)
    greeting_orgs: tuple[str, ...] = ()
    # who saw whom: From, To and Cc addresses (Bcc is in ``recipients`` only)
    visible: tuple[str, ...] = ()


def _anonymous(msg: SentMessage, at: datetime) -> str:
    """A key for a message without a Message-ID (its people and time: the same message
    recorded twice keeps one set of rows)."""
    return "anon:" + at.isoformat() + ":" + ",".join(sorted(a.lower() for a in msg.visible))


def _org(domain: str) -> str:
    from service.policy.domains import registrable_domain

    return registrable_domain(domain) or domain


class HistoryStore(Database):
    def history_crypto(self, wrapper: Wrapper, now: datetime) -> HistoryCrypto:
        """The history key, made on first use (two instances racing: one insert wins)."""
        crypto = self.existing_history_crypto(wrapper)
        if crypto is None:
            key = secrets.token_bytes(32)
            with self._write() as conn:
                stmt = self._insert(history_keys).values(
                    id=1, wrapped_key=wrapper.wrap(key, KEY_AAD),
                    created_at=checks.aware(now, "now")).on_conflict_do_nothing()
                conn.execute(stmt)
                blob = conn.execute(sa.select(history_keys.c.wrapped_key)
                                    .where(history_keys.c.id == 1)).scalar_one()
            crypto = HistoryCrypto(wrapper.unwrap(blob, KEY_AAD))
        return crypto

    def existing_history_crypto(self, wrapper: Wrapper) -> HistoryCrypto | None:
        """The history key, or None when nothing was ever recorded (read paths).

        Once found it is kept for the life of this store: the row is written once and
        never changes, and unwrapping it (a Cloud KMS call in production) on every compose
        request cost more than the check itself."""
        # keyed by the wrapper itself (kept alive here, so its id cannot be reused)
        cache: dict[int, tuple[Wrapper, HistoryCrypto]] = self.__dict__.setdefault(
            "_history_crypto", {})
        known = cache.get(id(wrapper))
        if known is not None and known[0] is wrapper:
            return known[1]
        if not history_key_exists(self):   # no SQLAlchemy query while none exists
            return None
        with self._read() as conn:
            blob = conn.execute(sa.select(history_keys.c.wrapped_key)
                                .where(history_keys.c.id == 1)).scalar_one_or_none()
        if blob is None:
            return None
        crypto = HistoryCrypto(wrapper.unwrap(blob, KEY_AAD))
        cache[id(wrapper)] = (wrapper, crypto)
        return crypto

    def history_key_blob(self) -> bytes | None:
        """The wrapped history key as stored (``keys rewrap``), None before first use."""
        with self._read() as conn:
            blob = conn.execute(sa.select(history_keys.c.wrapped_key)
                                .where(history_keys.c.id == 1)).scalar_one_or_none()
        return None if blob is None else bytes(blob)

    def replace_history_key(self, old: bytes, new: bytes) -> bool:
        """Swap the wrapped history key for ``new`` (the same key wrapped under another
        master key) only if it still is ``old``; False when it changed meanwhile."""
        with self._write() as conn:
            done = conn.execute(sa.update(history_keys).where(
                history_keys.c.id == 1, history_keys.c.wrapped_key == old)
                .values(wrapped_key=new)).rowcount
        self.__dict__.pop("_history_crypto", None)
        return done == 1

    def _insert(self, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
        return (postgresql.insert if self.backend == "postgresql" else sqlite.insert)(table)

    # --- writing ---------------------------------------------------------------------

    def record_history(self, crypto: HistoryCrypto, sender: str, message: SentMessage,
                       now: datetime) -> bool:
        """Count one sent message; False when it was counted before (same Message-ID)."""
        return self.record_history_many(crypto, sender, [message], now) == 1

    def record_history_many(self, crypto: HistoryCrypto, sender: str,
                            messages: Iterable[SentMessage], now: datetime) -> int:
        """Count messages in one transaction; returns how many were new."""
        now = checks.aware(now, "now")
        sender = sender.strip().lower()
        s = crypto.h("sender", sender)
        added = 0
        from service.policy.providers import all_providers

        own, personal = _org(sender.rpartition("@")[2]), all_providers()
        with self._write() as conn:
            for msg in messages:
                if self._record(conn, crypto, s, msg, msg.at or now):
                    self._record_orgs(conn, crypto, s, msg, msg.at or now, own, personal)
                    added += 1
        return added

    def _record_orgs(self, conn: Connection, crypto: HistoryCrypto, s: bytes,
                     msg: SentMessage, at: datetime, own: str,
                     personal: frozenset[str]) -> None:
        """Companies named in display names go with that address's domain; those the
        greeting names, with the one other organisation the mail went to (To), or none
        when it went to several (unsure: nothing learnt). Personal providers never."""
        from service.policy.orgnames import org_names

        pairs: set[tuple[str, str]] = set()
        to_orgs: set[str] = set()
        for address, name in msg.recipients:
            domain = address.strip().lower().rpartition("@")[2]
            org = _org(domain) if domain else ""
            if not org or org in personal or domain in personal:
                continue
            if org != own:
                to_orgs.add(org)
            pairs.update((key, org) for key in org_names(name))
        if len(to_orgs) == 1:
            [org] = to_orgs
            pairs.update((key, org) for key in msg.greeting_orgs)
        for key, org in pairs:
            ins = self._insert(history_orgs).values(
                sender_hash=s, org_hash=crypto.h("orgname", key),
                domain_hash=crypto.h("org", org),
                domain_wrapped=crypto.seal(org, s + b"org"), count=1, last_used=at)
            conn.execute(ins.on_conflict_do_update(
                index_elements=["sender_hash", "org_hash", "domain_hash"],
                set_={"count": history_orgs.c.count + 1, "last_used": at}))

    def _record(self, conn: Connection, crypto: HistoryCrypto, s: bytes, msg: SentMessage,
                at: datetime) -> bool:
        at = checks.aware(at, "at")
        if msg.message_id:
            m = crypto.h("message", msg.message_id)
            done = conn.execute(self._insert(history_messages).values(
                sender_hash=s, message_hash=m, at=at).on_conflict_do_nothing()
                .returning(history_messages.c.at)).first()
            if done is None:
                return False
        aad = s
        orgs: set[str] = set()
        for address, name in msg.recipients:
            address = address.strip().lower()
            if "@" not in address:
                continue
            local, _, domain = address.rpartition("@")
            orgs.add(_org(domain))
            a = crypto.h("address", address)
            ins = self._insert(history_recipients).values(
                sender_hash=s, address_hash=a, domain_hash=crypto.h("domain", domain),
                local_hash=crypto.h("local", local),
                address_wrapped=crypto.seal(address, aad + b"address"), count=1,
                first_used=at, last_used=at)
            conn.execute(ins.on_conflict_do_update(
                index_elements=["sender_hash", "address_hash"],
                set_={"count": history_recipients.c.count + 1,
                      "last_used": sa.func.max(history_recipients.c.last_used,
                                               ins.excluded.last_used)
                      if self.backend == "sqlite" else
                      sa.func.greatest(history_recipients.c.last_used,
                                       ins.excluded.last_used)}))
            from service.policy.history import name_key

            key = name_key(name)
            if key:
                nins = self._insert(history_names).values(
                    sender_hash=s, name_hash=crypto.h("name", key), address_hash=a,
                    name_wrapped=crypto.seal(name.strip(), aad + b"name"), count=1,
                    last_used=at)
                conn.execute(nins.on_conflict_do_update(
                    index_elements=["sender_hash", "name_hash", "address_hash"],
                    set_={"count": history_names.c.count + 1, "last_used": at}))
        self._record_together(conn, crypto, s, msg.message_id or _anonymous(msg, at),
                              msg.visible, at)
        ids = [i for i in (msg.message_id, *msg.references[:MAX_REFERENCES]) if i]
        for mid in dict.fromkeys(ids):
            m = crypto.h("message", mid)
            for org in orgs:
                conn.execute(self._insert(history_threads).values(
                    sender_hash=s, message_hash=m, domain_hash=crypto.h("org", org),
                    last_used=at).on_conflict_do_nothing())
        return True

    def _record_together(self, conn: Connection, crypto: HistoryCrypto, s: bytes,
                         message_key: str, visible: Iterable[str], at: datetime) -> int:
        people = {a.strip().lower() for a in visible if "@" in a}
        if not 2 <= len(people) <= MAX_TOGETHER:
            return 0
        m = crypto.h("message", message_key)
        added = 0
        for address in sorted(people):
            ins = self._insert(history_together).values(
                sender_hash=s, message_hash=m, address_hash=crypto.h("address", address),
                last_used=at)
            new = conn.execute(ins.on_conflict_do_nothing()
                               .returning(history_together.c.last_used)).first()
            added += new is not None
        return added

    def record_together(self, crypto: HistoryCrypto, sender: str,
                        messages: Iterable[tuple[str, Sequence[str]]], now: datetime) -> int:
        """Who each message of a thread read from Gmail showed to whom: ``(message key,
        From/To/Cc addresses)`` pairs, kept for messages showing 2-``MAX_TOGETHER``
        people; how many rows were new."""
        now = checks.aware(now, "now")
        s = crypto.h("sender", sender.strip().lower())
        with self._write() as conn:
            return sum(self._record_together(conn, crypto, s, key, visible, now)
                       for key, visible in messages)

    def touch_history(self, crypto: HistoryCrypto, sender: str, key: str,
                      now: datetime) -> None:
        """Change the sender's history stamp (``history_stamp``) after learning from a
        thread, so that no compose card memoised before it is served again: one
        ``history_messages`` row under ``key`` (not a message id: never a Message-ID)."""
        now = checks.aware(now, "now")
        s = crypto.h("sender", sender.strip().lower())
        with self._write() as conn:
            conn.execute(self._insert(history_messages).values(
                sender_hash=s, message_hash=crypto.h("message", key), at=now)
                .on_conflict_do_nothing())

    # --- erasing ---------------------------------------------------------------------

    def forget_history(self, crypto: HistoryCrypto, sender: str) -> int:
        """Delete every history row of ``sender`` (real DELETEs); how many went."""
        s = crypto.h("sender", sender.strip().lower())
        n = 0
        with self._write() as conn:
            for table in (history_recipients, history_names, history_threads,
                          history_messages, history_imports, history_orgs,
                          history_together):
                n += conn.execute(sa.delete(table).where(table.c.sender_hash == s)).rowcount
        return n

    def purge_history(self, before: datetime) -> int:
        """Retention: delete every row last used before ``before`` (all senders)."""
        before = checks.aware(before, "before")
        n = 0
        with self._write() as conn:
            for table, col in ((history_recipients, "last_used"), (history_names, "last_used"),
                               (history_threads, "last_used"), (history_messages, "at"),
                               (history_imports, "updated_at"),
                               (history_orgs, "last_used"),
                               (history_together, "last_used")):
                n += conn.execute(sa.delete(table).where(table.c[col] < before)).rowcount
        return n

    # --- reading ---------------------------------------------------------------------

    def history_stamp(self, crypto: HistoryCrypto, sender: str) -> tuple[int, str]:
        """(messages counted + recipient counts, newest) for ``sender``: changes with
        every change (one statement on the driver's cursor: ``storage.history_stamp``)."""
        return sender_stamp(self, crypto, sender)

    def history_view(self, crypto: HistoryCrypto, sender: str) -> StoredHistory:
        return StoredHistory(self, crypto, crypto.h("sender", sender.strip().lower()))


@cache
def _reads() -> dict[str, sa.Select[*tuple[Any, ...]]]:
    """The view's questions as statements built once, values bound per call: building
    the expression each time was half of a question's CPU (0.34 -> 0.18 ms a query,
    issue 12), and a compose check with a history asks ~25 of them."""
    r, n, o = history_recipients.c, history_names.c, history_orgs.c
    t, g = history_threads.c, history_together.c
    s: sa.BindParameter[bytes] = sa.bindparam("s")
    return {
        "empty": sa.select(r.count).where(r.sender_hash == s).limit(1),
        "count": sa.select(r.count).where(r.sender_hash == s,
                                          r.address_hash == sa.bindparam("k")),
        "at_domain": sa.select(r.address_wrapped, r.count).where(
            r.sender_hash == s, r.domain_hash == sa.bindparam("k")),
        "with_local": sa.select(r.address_wrapped, r.count).where(
            r.sender_hash == s, r.local_hash == sa.bindparam("k")),
        "for_name": sa.select(r.address_wrapped, n.count)
        .join_from(history_names, history_recipients,
                   sa.and_(r.sender_hash == n.sender_hash, r.address_hash == n.address_hash))
        .where(n.sender_hash == s, n.name_hash == sa.bindparam("k")),
        "names_for": sa.select(n.name_wrapped).where(
            n.sender_hash == s, n.address_hash == sa.bindparam("k")).order_by(n.count.desc()),
        "org_domains": sa.select(o.domain_wrapped, o.count).where(
            o.sender_hash == s, o.org_hash == sa.bindparam("k")).order_by(o.count.desc()),
        "thread": sa.select(t.domain_hash).where(
            t.sender_hash == s, t.message_hash.in_(sa.bindparam("k", expanding=True))),
        "together": sa.select(g.message_hash, g.address_hash).where(
            g.sender_hash == s, g.address_hash.in_(sa.bindparam("k", expanding=True))),
    }


@dataclass
class StoredHistory(HistoryView):
    """``HistoryView`` over the tables: each question one indexed query, answers cached
    for the life of one check."""

    store: HistoryStore
    crypto: HistoryCrypto
    sender_hash: bytes
    _counts: dict[str, int] = field(default_factory=dict)
    _empty: bool | None = None

    def _rows(self, name: str, key: object) -> list[sa.Row[*tuple[Any, ...]]]:
        with self.store._read() as conn:
            return list(conn.execute(_reads()[name], {"s": self.sender_hash, "k": key}))

    def _opened(self, rows: Iterable[sa.Row[*tuple[Any, ...]]], purpose: bytes
                ) -> list[tuple[str, int]]:
        out = []
        for blob, n in rows:
            value = self.crypto.open(blob, self.sender_hash + purpose)
            if value:
                out.append((value, int(n)))
        return out

    def is_empty(self) -> bool:
        if self._empty is None:
            self._empty = not self._rows("empty", None)
        return self._empty

    def count(self, address: str) -> int:
        if address not in self._counts:
            rows = self._rows("count", self.crypto.h("address", address))
            self._counts[address] = int(rows[0][0]) if rows else 0
        return self._counts[address]

    def at_domain(self, domain: str) -> Sequence[tuple[str, int]]:
        return self._opened(self._rows("at_domain", self.crypto.h("domain", domain)),
                            b"address")

    def with_local(self, local: str) -> Sequence[tuple[str, int]]:
        return self._opened(self._rows("with_local", self.crypto.h("local", local)),
                            b"address")

    def addresses_for_name(self, name_key: str) -> Sequence[tuple[str, int]]:
        return self._opened(self._rows("for_name", self.crypto.h("name", name_key)),
                            b"address")

    def names_for(self, address: str) -> Sequence[str]:
        rows = self._rows("names_for", self.crypto.h("address", address))
        names = (self.crypto.open(blob, self.sender_hash + b"name") for (blob,) in rows)
        return [x for x in names if x]

    def org_domains(self, org_key: str) -> Sequence[tuple[str, int]]:
        """Organisations (registrable domains) whose mail was addressed with the company
        ``org_key`` (``policy.orgnames``), with counts."""
        return self._opened(self._rows("org_domains", self.crypto.h("orgname", org_key)),
                            b"org")

    def thread_has_domain(self, message_ids: Sequence[str], domain: str) -> bool | None:
        hashes_ = [self.crypto.h("message", i) for i in list(message_ids)[:MAX_REFERENCES + 1]]
        rows = self._rows("thread", hashes_)
        if not rows:
            return None
        return self.crypto.h("org", domain) in {bytes(d) for (d,) in rows}

    def together(self, addresses: Sequence[str]) -> Sequence[frozenset[str]]:
        asked = {self.crypto.h("address", a.strip().lower()): a.strip().lower()
                 for a in list(addresses)[:MAX_ASKED]}
        if len(asked) < 2:
            return []
        groups: dict[bytes, set[str]] = {}
        for m, a in self._rows("together", list(asked)):
            groups.setdefault(bytes(m), set()).add(asked[bytes(a)])
        return [frozenset(g) for g in groups.values() if len(g) >= 2]
