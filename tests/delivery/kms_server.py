"""A loopback server speaking Cloud KMS's encrypt/decrypt JSON (AES-GCM with the AAD), so
the real ``KmsKeyWrapper`` can be exercised: re-wrapping to KMS, after a switch."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from service.protect.keywrap import KmsKeyWrapper

KMS_NAME = "projects/p/locations/asia-northeast1/keyRings/sendguard/cryptoKeys/wrap"


def _handler(key: bytes) -> type[BaseHTTPRequestHandler]:
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
            aad = base64.b64decode(body.get("additionalAuthenticatedData", ""))
            aead = AESGCM(key)
            if self.path == f"/v1/{KMS_NAME}:encrypt":
                nonce = os.urandom(12)
                sealed = nonce + aead.encrypt(nonce, base64.b64decode(body["plaintext"]), aad)
                return self._reply(200, {"ciphertext": base64.b64encode(sealed).decode()})
            if self.path == f"/v1/{KMS_NAME}:decrypt":
                sealed = base64.b64decode(body["ciphertext"])
                try:
                    plain = aead.decrypt(sealed[:12], sealed[12:], aad)
                except InvalidTag:
                    return self._reply(400, {"error": {"code": 400}})
                return self._reply(200, {"plaintext": base64.b64encode(plain).decode()})
            return self._reply(404, {"error": {"code": 404}})

    return Kms


@contextmanager
def kms_wrapper() -> Iterator[KmsKeyWrapper]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(AESGCM.generate_key(256)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with requests.Session() as session:
            yield KmsKeyWrapper(KMS_NAME, endpoint=f"http://127.0.0.1:{server.server_port}/v1/",
                                session=session)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
