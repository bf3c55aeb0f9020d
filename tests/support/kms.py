"""A loopback server speaking Cloud KMS's encrypt/decrypt JSON (AES-GCM bound to the AAD),
so the real ``KmsKeyWrapper`` runs over HTTP: Cloud KMS itself cannot be reached here."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.protect.keywrap import KmsKeyWrapper

KMS_NAME = "projects/p/locations/asia-northeast1/keyRings/sendguard/cryptoKeys/passwords"


@dataclass
class KmsStandIn:
    """What the stand-in saw, and a status to answer every call with (None: work)."""

    wrapper: KmsKeyWrapper
    seen: list[dict[str, str]] = field(default_factory=list)
    status: int | None = None


def _handler(key: bytes, state: list[KmsStandIn]) -> type[BaseHTTPRequestHandler]:
    class Kms(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, body: dict[str, object]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            kms = state[0]
            kms.seen.append({"path": self.path, **body})
            if kms.status is not None:
                return self._reply(kms.status, {"error": {"code": kms.status}})
            aad = base64.b64decode(body.get("additionalAuthenticatedData", ""))
            aead = AESGCM(key)
            if self.path == f"/v1/{KMS_NAME}:encrypt":
                nonce = os.urandom(12)
                sealed = nonce + aead.encrypt(nonce, base64.b64decode(body["plaintext"]), aad)
                return self._reply(200, {"name": KMS_NAME,
                                         "ciphertext": base64.b64encode(sealed).decode()})
            if self.path == f"/v1/{KMS_NAME}:decrypt":
                sealed = base64.b64decode(body["ciphertext"])
                try:
                    plain = aead.decrypt(sealed[:12], sealed[12:], aad)
                except InvalidTag:
                    return self._reply(400, {"error": {"code": 400,
                                                       "message": "Decryption failed"}})
                return self._reply(200, {"plaintext": base64.b64encode(plain).decode()})
            return self._reply(404, {"error": {"code": 404}})

    return Kms


@contextmanager
def kms_stand_in() -> Iterator[KmsStandIn]:
    state: list[KmsStandIn] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 _handler(AESGCM.generate_key(bit_length=256), state))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with requests.Session() as session:
            state.append(KmsStandIn(KmsKeyWrapper(
                KMS_NAME, endpoint=f"http://127.0.0.1:{server.server_port}/v1/",
                session=session)))
            yield state[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def kms_wrapper() -> Iterator[KmsKeyWrapper]:
    with kms_stand_in() as kms:
        yield kms.wrapper
