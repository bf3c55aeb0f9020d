"""Cloud Run's request timeout, the server's and the analysis deadline agree (issue 9:
gunicorn's ``timeout: 0`` left a worker busy after the client had gone; the server's
watchdog now kills a worker that stops answering for that long: tests/deploy/test_server.py)."""

from __future__ import annotations

import re
from pathlib import Path

from service.addon.analysis import GRACE
from service.policy.policyfile import MAX_CHECK_DEADLINE
from service.server import ServerSettings

ROOT = Path(__file__).resolve().parents[2]


def cloud_run_timeout() -> int:
    m = re.search(r"gcloud run deploy .*?--timeout=(\d+)s", (ROOT / "deploy/deploy.sh")
                  .read_text(), re.S)
    assert m, "deploy.sh sets no --timeout for the service"
    return int(m.group(1))


def test_server_timeout_is_cloud_runs() -> None:
    assert ServerSettings().request_timeout == cloud_run_timeout() == 120
    assert ServerSettings.from_env({}).request_timeout == cloud_run_timeout()


def test_longest_analysis_ends_within_the_request() -> None:
    # one deadline waiting for a slot, one analysing, then the kill
    assert cloud_run_timeout() > 2 * MAX_CHECK_DEADLINE + GRACE
