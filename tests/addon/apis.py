"""Two ways to reach the app: Flask's test client and a real HTTP server on loopback."""

from __future__ import annotations

import threading
from typing import Any

import requests
from flask import Flask
from werkzeug.serving import make_server

from .support import check_cards


class Api:
    """Posts add-on requests and checks every card of every 200 answer."""

    app: Flask

    def post(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        raise NotImplementedError

    def call(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        status, data = self.post(path, headers, body)
        if status == 200:
            check_cards(data)
        return status, data


class ClientApi(Api):
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    def post(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        resp = self.client.post(path, json=body, headers=headers)
        return resp.status_code, resp.get_json(silent=True)


class HttpApi(Api):
    """The app behind a real threaded HTTP server on loopback."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.session = requests.Session()

    def post(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        url = path if path.startswith("http") else self.base + path
        resp = self.session.post(url, json=body, headers=headers, timeout=60)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, None

    def close(self) -> None:
        self.session.close()
        self.server.shutdown()
        self.server.server_close()
