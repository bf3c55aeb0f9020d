"""deploy.sh makes the link-mode files bucket private on every count (issue 15), through
the fake gcloud: uniform bucket-level access, public access prevention, a lifecycle rule
deleting objects after key expiry + retention, one IAM binding (the runtime account), and
the service told where it is (SENDGUARD_FILES). A second run creates nothing again but
re-applies the settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .deploy_support import env_vars, joined
from .fake_gcloud import split
from .test_deploy_idempotent import MAILER, Deployer

BUCKET = "gs://sample-proj-sendguard-files"
RUN_SA = "sendguard-run@sample-proj.iam.gserviceaccount.com"


def storage_calls(calls: list[dict]) -> list[list[str]]:  # type: ignore[type-arg]
    return [c["argv"] for c in calls if c["argv"][0:2] == ["storage", "buckets"]]


@pytest.mark.parametrize(("extra", "days"), [([], 37), (["--files-delete-after-days", "10"],
                                                        10)], ids=["default", "10 days"])
def test_bucket_is_private_with_lifecycle(tmp_path: Path, extra: list[str], days: int
                                          ) -> None:
    d = Deployer(tmp_path)
    result, calls = d.run("--mailer", MAILER, *extra)
    assert result.code == 0, result.stderr
    storage = storage_calls(calls)
    verbs = [split(argv)[1] for argv in storage]
    assert verbs == ["describe", "create", "update", "add-iam-policy-binding"]
    for argv in storage[1:3]:
        assert argv[3] == BUCKET
        assert "--uniform-bucket-level-access" in argv
        assert "--public-access-prevention" in argv
        lifecycle = next(a.split("=", 1)[1] for a in argv if a.startswith("--lifecycle-file="))
        assert json.loads(Path(lifecycle).read_text()) == {
            "rule": [{"action": {"type": "Delete"}, "condition": {"age": days}}]}
    bindings = [argv for argv in storage if split(argv)[1] == "add-iam-policy-binding"]
    assert len(bindings) == 1
    assert f"--member=serviceAccount:{RUN_SA}" in bindings[0]
    assert "--role=roles/storage.objectUser" in bindings[0]
    assert not any("allUsers" in joined(c["argv"]) or "allAuthenticatedUsers"
                   in joined(c["argv"]) for c in calls if "storage" in c["argv"])
    deploy = next(c["argv"] for c in calls if joined(c["argv"]).startswith("run deploy"))
    assert env_vars(deploy, "update-env-vars")["SENDGUARD_FILES"] == f"{BUCKET}/files"

    again, calls = d.run()
    assert again.code == 0, again.stderr
    assert [split(argv)[1] for argv in storage_calls(calls)] == [
        "describe", "update", "add-iam-policy-binding"]


@pytest.mark.parametrize("value", ["0", "abc", "-3", "99999"])
def test_bad_lifecycle_days(tmp_path: Path, value: str) -> None:
    d = Deployer(tmp_path)
    result, calls = d.run("--mailer", MAILER, "--files-delete-after-days", value)
    assert result.code == 2 and "--files-delete-after-days" in result.stderr
    assert calls == []
