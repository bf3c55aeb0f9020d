"""Gmail's two spellings of one id: the web UI's ``thread-f:<decimal>`` and the API's hex.

Google's add-on event names the open thread and message as Gmail's UI does
(``"threadId": "thread-f:1784937829876543210"``, ``"messageId": "msg-f:…"``); the REST API
calls the same thread ``18c5b2a4e1f0d00a``: the same 64-bit number, written in hex.
``msg-a:r…`` (a draft's UI id) has no API equivalent and converts to None.
"""

from __future__ import annotations

import re

_UI = re.compile(r"^(?:thread|msg)-[fa]:(\d{1,20})$")
_HEX = re.compile(r"^[0-9a-f]{1,16}$")
MAX_ID = (1 << 64) - 1


def api_id(value: str | None) -> str | None:
    """The API's hex id for a UI id or an API id; None for anything else."""
    if not value:
        return None
    text = value.strip()
    m = _UI.match(text)
    if m:
        number = int(m.group(1))
        return f"{number:x}" if 0 < number <= MAX_ID else None
    return text if _HEX.match(text) else None


def ui_thread_id(api: str) -> str:
    """``thread-f:<decimal>`` as Gmail's add-on event spells the thread ``api``."""
    return f"thread-f:{int(api, 16)}"


def ui_message_id(api: str) -> str:
    return f"msg-f:{int(api, 16)}"
