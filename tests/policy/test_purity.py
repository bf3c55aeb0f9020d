"""The policy core stays pure: analysing a draft loads no web, database or network code
(the stdlib `email` package imports `socket` for host names; nothing connects)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
from service.policy import Attachment, Draft, analyze, draft_from_bytes, load_policy
draft = draft_from_bytes(open("examples/cc-mix-staff-list.eml", "rb").read())
analyze(draft, load_policy("examples/policy.toml"), locale="ja")
heavy = ("flask", "werkzeug", "sqlalchemy", "requests", "googleapiclient", "httplib2",
         "google.auth", "psycopg", "smtplib", "http.client", "urllib.request")
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
"""


def test_policy_imports_no_flask_database_or_network() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert json.loads(out) == []
