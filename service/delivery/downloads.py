"""Link mode downloads: ``GET /k/<token>/files/<n>`` within the session the code opened.

Streams the decrypted file one authenticated chunk at a time, honours a single byte
``Range`` (206, or 416 with ``Content-Range: bytes */SIZE``), names the file exactly
(RFC 6266 ``filename*=UTF-8''…`` per RFC 5987, plus an ASCII fallback), records each
download in the audit log and tells the sender of the first one.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

from service.delivery.keypage import Visit
from service.delivery.notices import downloaded_mail
from service.files.crypt import decrypt_range, file_key
from service.files.manifest import Manifest, StoredFile
from service.files.store import FileStore
from service.mailer import Mailer, MailerError
from service.settings import Config
from service.storage import SYSTEM_ACTOR, Store, recipient_actor

log = logging.getLogger(__name__)

DOWNLOADED = "file.downloaded"


def content_disposition(name: str) -> str:
    """``attachment`` with the exact UTF-8 name and an ASCII stand-in for old clients."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_"
                       for c in unicodedata.normalize("NFKD", name)) or "file"
    return (f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(name, safe='')}")


def stream(files: FileStore, manifest: Manifest, n: int, start: int,
           end: int | None) -> Iterator[bytes]:
    stored = manifest.files[n]
    key = file_key(manifest.key, n)
    yield from decrypt_range(key, stored.size,
                             lambda off, ln: files.read(stored.object_name, off, ln),
                             start, end)


def record(store: Store, mailer: Mailer, config: Config, visit: Visit, n: int,
           stored: StoredFile, span: tuple[int, int] | None, now: datetime) -> None:
    """Audit the download; the sender hears of the package's first one."""
    first = not store.search_audit(package_id=visit.package.id, action=DOWNLOADED, limit=1)
    data: dict[str, object] = {"address": visit.grant.address, "file": n,
                               "size": stored.size}
    if span is not None:
        data["range"] = [span[0], span[1] - 1]
    store.append_audit(recipient_actor(visit.grant.address), DOWNLOADED, now=now,
                       package_id=visit.package.id, message_id=visit.package.message_id,
                       data=data)
    if not first:
        return
    try:
        mailer.send(downloaded_mail(config, visit.package, visit.grant.address, stored.name,
                                    now))
    except MailerError as exc:
        log.warning("package %s: download notice to the sender failed (%s)",
                    visit.package.id, exc.detail or exc)
        store.append_audit(SYSTEM_ACTOR, "sender_notice.failed", now=now,
                           package_id=visit.package.id, data={"address": visit.package.sender})
        return
    store.append_audit(SYSTEM_ACTOR, "sender_notice.sent", now=now,
                       package_id=visit.package.id,
                       data={"address": visit.package.sender, "about": DOWNLOADED})
