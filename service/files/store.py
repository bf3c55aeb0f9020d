"""Where sealed files live (``SENDGUARD_FILES``): a local directory by default
(``var/files``), Cloud Storage (``gs://BUCKET/PREFIX``, google-cloud-storage) in
production. Both behind ``FileStore``: put a stream, read a byte range, delete.

Object names are random (``new_object_name``): they say nothing about the sender, the
package or the file; only the sealed manifest links a package to its objects.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

from service.errors import ConfigError, SendGuardError

_NAME = re.compile(r"^[0-9a-f]{32}$")
UPLOAD_CHUNK = 8 * 1024 * 1024       # resumable upload piece (a multiple of 256 KiB)


class FileStoreError(SendGuardError):
    """The file store failed (unreachable, refused); never carries file bytes."""


class FileStore(Protocol):
    def put(self, name: str, chunks: Iterable[bytes]) -> int: ...

    def read(self, name: str, offset: int, length: int) -> bytes: ...

    def delete(self, name: str) -> bool: ...

    def exists(self, name: str) -> bool: ...


def new_object_name() -> str:
    return secrets.token_hex(16)


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise FileStoreError("bad object name")
    return name


class LocalFileStore(FileStore):
    """Files in one directory (0700), each written to a temporary file and renamed."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        return self.root / _checked(name)

    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".up-", dir=self.root)
        size = 0
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    f.write(chunk)
                    size += len(chunk)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path(name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return size

    def read(self, name: str, offset: int, length: int) -> bytes:
        try:
            with open(self._path(name), "rb") as f:
                f.seek(offset)
                return f.read(length)
        except FileNotFoundError:
            raise FileStoreError("stored file is gone") from None

    def delete(self, name: str) -> bool:
        try:
            self._path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def exists(self, name: str) -> bool:
        return self._path(name).exists()


class GcsWriter(Protocol):
    def write(self, data: bytes, /) -> int: ...


class GcsBlob(Protocol):
    """What ``GcsFileStore`` calls on a ``google.cloud.storage.Blob`` (untyped upstream)."""

    def open(self, mode: str, *, content_type: str, if_generation_match: int
             ) -> AbstractContextManager[GcsWriter]: ...

    def download_as_bytes(self, *, start: int, end: int, checksum: str | None) -> bytes: ...

    def delete(self) -> None: ...

    def exists(self) -> bool: ...


class GcsBucket(Protocol):
    def blob(self, blob_name: str, *, chunk_size: int) -> GcsBlob: ...


class GcsClient(Protocol):
    """The one call ``GcsFileStore`` makes on a ``google.cloud.storage.Client``."""

    def bucket(self, bucket_name: str) -> GcsBucket: ...


class GcsFileStore(FileStore):
    """Objects ``PREFIX/NAME`` in one bucket: resumable uploads in ``UPLOAD_CHUNK``
    pieces, ranged reads. ``client``: a ``google.cloud.storage.Client`` (built on first
    use from the runtime service account when not given)."""

    def __init__(self, bucket: str, prefix: str = "", client: GcsClient | None = None) -> None:
        self.bucket_name = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        self._bucket: GcsBucket | None = None

    def _blob(self, name: str) -> GcsBlob:
        if self._bucket is None:
            if self._client is None:
                import google.cloud.storage as storage

                self._client = storage.Client()
            self._bucket = self._client.bucket(self.bucket_name)
        path = f"{self.prefix}/{_checked(name)}" if self.prefix else _checked(name)
        return self._bucket.blob(path, chunk_size=UPLOAD_CHUNK)

    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        from google.api_core import exceptions

        size = 0
        blob = self._blob(name)
        try:
            with blob.open("wb", content_type="application/octet-stream",
                           if_generation_match=0) as f:
                for chunk in chunks:
                    f.write(chunk)
                    size += len(chunk)
        except exceptions.GoogleAPIError as exc:
            raise FileStoreError("Cloud Storage upload failed",
                                 detail=type(exc).__name__) from None
        return size

    def read(self, name: str, offset: int, length: int) -> bytes:
        from google.api_core import exceptions

        if length <= 0:
            return b""
        try:
            data: bytes = self._blob(name).download_as_bytes(
                start=offset, end=offset + length - 1, checksum=None)
        except exceptions.NotFound:
            raise FileStoreError("stored file is gone") from None
        except exceptions.RequestRangeNotSatisfiable:
            return b""
        except exceptions.GoogleAPIError as exc:
            raise FileStoreError("Cloud Storage read failed",
                                 detail=type(exc).__name__) from None
        return data

    def delete(self, name: str) -> bool:
        from google.api_core import exceptions

        try:
            self._blob(name).delete()
        except exceptions.NotFound:
            return False
        except exceptions.GoogleAPIError as exc:
            raise FileStoreError("Cloud Storage delete failed",
                                 detail=type(exc).__name__) from None
        return True

    def exists(self, name: str) -> bool:
        return bool(self._blob(name).exists())


def parse_files_url(value: str, var_dir: Path) -> FileStore:
    """``SENDGUARD_FILES``: ``gs://BUCKET[/PREFIX]``, a directory, or empty
    (``var_dir/files``)."""
    value = value.strip()
    if not value:
        return LocalFileStore(var_dir / "files")
    if value.startswith("gs://"):
        bucket, _, prefix = value[5:].partition("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", bucket):
            raise ConfigError("SENDGUARD_FILES must be gs://BUCKET/PREFIX with a valid "
                              "bucket name")
        return GcsFileStore(bucket, prefix)
    if "://" in value:
        raise ConfigError("SENDGUARD_FILES must be gs://BUCKET/PREFIX or a directory")
    return LocalFileStore(Path(value))
