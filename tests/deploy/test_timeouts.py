"""Cloud Run's request timeout, gunicorn's and the analysis deadline agree (issue 9:
``timeout: 0`` left a worker busy after the client had gone)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

from service.addon.analysis import GRACE
from service.policy.policyfile import MAX_CHECK_DEADLINE

ROOT = Path(__file__).resolve().parents[2]


def cloud_run_timeout() -> int:
    m = re.search(r"gcloud run deploy .*?--timeout=(\d+)s", (ROOT / "deploy/deploy.sh")
                  .read_text(), re.S)
    assert m, "deploy.sh sets no --timeout for the service"
    return int(m.group(1))


def test_gunicorn_timeout_is_cloud_runs() -> None:
    conf = runpy.run_path(str(ROOT / "deploy/gunicorn.conf.py"))
    assert conf["timeout"] == cloud_run_timeout() > 0


def test_serve_uses_the_same_timeout() -> None:
    source = (ROOT / "service/commands/serve.py").read_text()
    assert '"timeout": int(os.environ.get("SENDGUARD_REQUEST_TIMEOUT", "120"))' in source
    assert cloud_run_timeout() == 120


def test_longest_analysis_ends_within_the_request() -> None:
    # one deadline waiting for a slot, one analysing, then the kill
    assert cloud_run_timeout() > 2 * MAX_CHECK_DEADLINE + GRACE
