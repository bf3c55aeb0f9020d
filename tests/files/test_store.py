"""Both file stores behind one Protocol: the local directory and Cloud Storage (through
google-cloud-storage against fake-gcs-server): a multi-piece resumable upload, ranged
reads, delete, and names that are checked."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from service.errors import ConfigError
from service.files.store import (
    UPLOAD_CHUNK,
    FileStore,
    FileStoreError,
    GcsFileStore,
    LocalFileStore,
    new_object_name,
    parse_files_url,
)

BIG = os.urandom(UPLOAD_CHUNK * 2 + 12345)      # three resumable upload pieces


def test_put_read_delete(file_store: FileStore) -> None:
    name = new_object_name()
    assert file_store.put(name, [BIG[i:i + 1_000_003] for i in range(0, len(BIG), 1_000_003)]
                          ) == len(BIG)
    assert file_store.exists(name)
    assert file_store.read(name, 0, 10) == BIG[:10]
    assert file_store.read(name, UPLOAD_CHUNK - 5, 20) == BIG[UPLOAD_CHUNK - 5:UPLOAD_CHUNK + 15]
    assert file_store.read(name, len(BIG) - 3, 100) == BIG[-3:]
    assert file_store.delete(name)
    assert not file_store.exists(name)
    assert not file_store.delete(name)
    with pytest.raises(FileStoreError):
        file_store.read(name, 0, 10)


@pytest.mark.parametrize("name", ["../etc/passwd", "ABC", "", "a" * 32 + "/x"])
def test_bad_names_are_refused(file_store: FileStore, name: str) -> None:
    with pytest.raises(FileStoreError):
        file_store.put(name, [b"x"])


def test_gcs_objects_live_under_the_prefix(gcs_store: GcsFileStore) -> None:
    name = new_object_name()
    gcs_store.put(name, [b"sealed"])
    client: Any = gcs_store._client       # a google.cloud.storage.Client (untyped)
    listed = [b.name for b in client.list_blobs(gcs_store.bucket_name)]
    assert listed == [f"files/{name}"]


URLS = {"empty: var/files": ("", LocalFileStore), "directory": ("/srv/files", LocalFileStore),
        "bucket and prefix": ("gs://my-bucket/sendguard", GcsFileStore),
        "bucket only": ("gs://my-bucket", GcsFileStore)}


@pytest.mark.parametrize(("value", "kind"), URLS.values(), ids=URLS.keys())
def test_files_url(value: str, kind: type, tmp_path: Path) -> None:
    assert isinstance(parse_files_url(value, tmp_path), kind)


@pytest.mark.parametrize("value", ["gs://", "gs://UPPER/x", "s3://bucket/x", "gs://a/b"])
def test_bad_files_url(value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        parse_files_url(value, tmp_path)
