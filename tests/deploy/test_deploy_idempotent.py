"""deploy.sh against a stand-in gcloud: a second run updates, never creates twice.

Real Google Cloud cannot be reached from this machine, so these tests put a small fake
``gcloud`` (tests/deploy/fake_gcloud.py) first on PATH. It remembers what the script
created, answers ``describe`` from that memory and records every call with the secret
values it received on stdin or in a flags file; what is checked here is deploy.sh's own
logic: guards, ordering, secret handling and stopping on failure. That the commands are
valid gcloud is checked separately against the real CLI's parser (test_gcloud_syntax.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.stamp.keys import parse_stamp_keys

from .deploy_support import (
    FakeCloud,
    Result,
    base_args,
    env_vars,
    install_fake_gcloud,
    joined,
    run_deploy,
    tool_dir,
    write_template,
)
from .descriptor import parse_descriptor
from .fake_gcloud import SERVICE_URL, split

MAILER = "smtp://smtp-relay.gmail.com:587"
URL_SHAPE = re.compile(r"^postgresql://sendguard:([0-9a-f]{48})@/sendguard"
                       r"\?host=/cloudsql/sample-proj:asia-northeast1:sendguard-db$")


class Deployer:
    def __init__(self, tmp_path: Path, exists: list[str] | None = None) -> None:
        self.tmp = tmp_path
        self.bin = tool_dir(tmp_path)
        install_fake_gcloud(self.bin)
        self.cloud = FakeCloud(tmp_path, exists)
        self.template = write_template(tmp_path)
        self.out = tmp_path / "out"

    def run(self, *extra: str, fail: str = "") -> tuple[Result, list[dict[str, Any]]]:
        env = self.cloud.env(FAKE_GCLOUD_FAIL=fail) if fail else self.cloud.env()
        result = run_deploy(base_args(self.template, self.out, *extra), self.bin, env)
        return result, self.cloud.calls_since_last()


def argvs(calls: list[dict[str, Any]]) -> list[list[str]]:
    return [c["argv"] for c in calls]


def verbs(calls: list[dict[str, Any]], verb: str) -> list[str]:
    return [joined(c["argv"]) for c in calls if split(c["argv"])[1] == verb]


def find(calls: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [c for c in calls if joined(c["argv"]).startswith(prefix)]


@dataclass
class TwoRuns:
    deployer: Deployer
    first: Result
    calls1: list[dict[str, Any]]
    second: Result
    calls2: list[dict[str, Any]]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """A first deployment into an empty project, then the same command again."""
    d = Deployer(tmp_path_factory.mktemp("two-runs"))
    first, calls1 = d.run("--mailer", MAILER)
    assert first.code == 0, first.stderr
    second, calls2 = d.run()
    assert second.code == 0, second.stderr
    return TwoRuns(d, first, calls1, second, calls2)


def test_second_run_updates_and_never_creates(two_runs: TwoRuns) -> None:
    calls1, calls2 = two_runs.calls1, two_runs.calls2
    created = verbs(calls1, "create")
    assert len(created) == len(set(created)) >= 10
    assert find(calls1, "workspace-add-ons deployments create sendguard")
    assert find(calls1, "scheduler jobs create http sendguard-release-due")

    assert verbs(calls2, "create") == []
    assert find(calls2, "secrets versions add") == []
    assert find(calls2, "sql users set-password") == []
    assert find(calls2, "logging sinks update") == [], "exclusion added once only"
    assert find(calls2, "workspace-add-ons deployments replace sendguard")
    assert find(calls2, "workspace-add-ons deployments install sendguard")
    assert find(calls2, "scheduler jobs update http sendguard-release-due")
    # Per deploy, on purpose: a new image, its migration, a new revision.
    for prefix in ("builds submit", "run jobs deploy", "run jobs execute", "run deploy"):
        assert len(find(calls2, prefix)) == 1, prefix


def test_first_run_reads_back_the_url_and_fixes_the_settings(two_runs: TwoRuns) -> None:
    calls, out = two_runs.calls1, two_runs.deployer.out
    deploy = find(calls, "run deploy sendguard")[0]["argv"]
    initial = env_vars(deploy, "update-env-vars")["SENDGUARD_BASE_URL"]
    assert initial == "https://sendguard-123456789012.asia-northeast1.run.app"
    update = find(calls, "run services update sendguard")
    assert len(update) == 1
    assert env_vars(update[0]["argv"], "update-env-vars") == {
        "SENDGUARD_BASE_URL": SERVICE_URL, "SENDGUARD_ADDON_AUDIENCE": SERVICE_URL}
    sched = find(calls, "scheduler jobs create http")[0]["argv"]
    assert f"--uri={SERVICE_URL}/tasks/release-due" in sched
    descriptor = json.loads((out / "deployment.json").read_text())
    assert descriptor["addOns"]["common"]["homepageTrigger"]["runFunction"] == (
        f"{SERVICE_URL}/addon/homepage")
    assert "${" not in (out / "deployment.json").read_text()
    assert (out / ".gitignore").read_text() == "*\n"

    calls2 = two_runs.calls2
    deploy2 = find(calls2, "run deploy sendguard")[0]["argv"]
    assert env_vars(deploy2, "update-env-vars")["SENDGUARD_BASE_URL"] == SERVICE_URL
    assert find(calls2, "run services update") == []
    assert "SENDGUARD_MAILER" not in env_vars(deploy2, "update-env-vars"), "kept, not reset"


def test_secrets_are_made_locally_and_never_printed(two_runs: TwoRuns) -> None:
    calls = two_runs.calls1
    url_call = find(calls, "secrets create sendguard-database-url")[0]
    match = URL_SHAPE.match(url_call["stdin"])
    assert match, url_call["stdin"]
    password = match.group(1)
    user_call = find(calls, "sql users create sendguard")[0]
    assert user_call["flags_file"] == f"--password: {password}\n"
    assert not any(password in a for c in calls for a in c["argv"]), "never in argv"
    master = find(calls, "secrets create sendguard-master-key")[0]["stdin"]
    assert re.fullmatch(r"[0-9a-f]{64}", master)
    stamp = find(calls, "secrets create sendguard-stamp-key")[0]["stdin"]
    assert re.fullmatch(r"k1:[0-9a-f]{64}", stamp)
    parse_stamp_keys(stamp)                       # exactly what the service accepts
    assert find(calls, "secrets add-iam-policy-binding sendguard-stamp-key")
    assert find(two_runs.calls2, "secrets create sendguard-stamp-key") == []
    for result in (two_runs.first, two_runs.second):
        for secret in (password, master, stamp[3:]):
            assert secret not in result.stdout and secret not in result.stderr
    assert not list(two_runs.deployer.out.glob("*flags*")), "the password file is removed"


def test_master_key_is_never_regenerated(tmp_path: Path) -> None:
    d = Deployer(tmp_path, exists=["secrets sendguard-master-key"])
    result, calls = d.run("--mailer", MAILER)
    assert result.code == 0, result.stderr
    assert not [c for c in calls if "sendguard-master-key" in joined(c["argv"])
                and split(c["argv"])[1] in ("create", "add")]
    deploy = find(calls, "run deploy")[0]["argv"]
    assert env_vars(deploy, "set-secrets")["SENDGUARD_MASTER_KEY"] == (
        "sendguard-master-key:latest")


@pytest.mark.parametrize(("exists", "expect"), [
    pytest.param(["sql users sendguard"], ["sql users set-password", "secrets create"],
                 id="user-without-url-secret"),
    pytest.param(["secrets sendguard-database-url"], ["sql users create",
                                                      "secrets versions add"],
                 id="url-secret-without-user"),
])
def test_half_made_database_credentials_are_repaired(tmp_path: Path, exists: list[str],
                                                     expect: list[str]) -> None:
    d = Deployer(tmp_path, exists=exists)
    result, calls = d.run("--mailer", MAILER)
    assert result.code == 0, result.stderr
    user = find(calls, expect[0])
    secret = [c for c in find(calls, expect[1]) if "sendguard-database-url" in c["argv"]]
    assert len(user) == 1 and len(secret) == 1
    match = URL_SHAPE.match(secret[0]["stdin"])
    assert match and user[0]["flags_file"] == f"--password: {match.group(1)}\n"


def test_failed_migration_stops_the_deploy(tmp_path: Path) -> None:
    d = Deployer(tmp_path)
    result, calls = d.run("--mailer", MAILER, fail="run jobs execute")
    assert result.code != 0
    assert find(calls, "run jobs execute")
    for never in ("run deploy", "scheduler jobs", "workspace-add-ons deployments"):
        assert find(calls, never) == [], never


def test_first_deploy_needs_a_mailer(tmp_path: Path) -> None:
    d = Deployer(tmp_path)
    result, calls = d.run()
    assert result.code == 2
    assert "--mailer is required" in result.stderr
    assert find(calls, "run deploy") == []


def test_smtp_password_and_policy_secrets_then_updates(tmp_path: Path) -> None:
    d = Deployer(tmp_path)
    pw_file = tmp_path / "smtp-password"
    pw_file.write_text("relay-secret-pw")
    policy = tmp_path / "policy.toml"
    policy.write_text('[organization]\ninternal_domains = ["example.co.jp"]\n')
    mailer = "smtps://sendguard@smtp.example.co.jp:465"
    result, calls = d.run("--mailer", mailer, "--smtp-password-file", str(pw_file),
                          "--policy", str(policy))
    assert result.code == 0, result.stderr
    for secret, source in (("sendguard-smtp-password", pw_file), ("sendguard-policy", policy)):
        create = find(calls, f"secrets create {secret}")
        assert len(create) == 1 and f"--data-file={source}" in create[0]["argv"]
        assert find(calls, f"secrets add-iam-policy-binding {secret}")
    deploy = find(calls, "run deploy")[0]["argv"]
    assert env_vars(deploy, "set-secrets") == {
        "DATABASE_URL": "sendguard-database-url:latest",
        "SENDGUARD_MASTER_KEY": "sendguard-master-key:latest",
        "SENDGUARD_STAMP_KEY": "sendguard-stamp-key:latest",
        "SENDGUARD_SMTP_PASSWORD": "sendguard-smtp-password:latest",
        "/etc/sendguard/policy.toml": "sendguard-policy:latest"}
    env = env_vars(deploy, "update-env-vars")
    assert env["SENDGUARD_MAILER"] == mailer
    assert env["SENDGUARD_POLICY"] == "/etc/sendguard/policy.toml"
    assert "relay-secret-pw" not in result.stdout + result.stderr

    # Later: a new SMTP password is a new version; the policy, not given, stays mounted.
    again, calls2 = d.run("--mailer", mailer, "--smtp-password-file", str(pw_file))
    assert again.code == 0, again.stderr
    assert find(calls2, "secrets create") == []
    assert len(find(calls2, "secrets versions add sendguard-smtp-password")) == 1
    assert find(calls2, "secrets versions add sendguard-policy") == []
    deploy2 = find(calls2, "run deploy")[0]["argv"]
    assert "/etc/sendguard/policy.toml" in env_vars(deploy2, "set-secrets")
    assert env_vars(deploy2, "update-env-vars")["SENDGUARD_POLICY"] == (
        "/etc/sendguard/policy.toml")


@pytest.mark.parametrize("mailer", [
    pytest.param("smtps://sendguard@smtp.example.co.jp:465", id="smtps"),
    pytest.param("smtp+starttls://sendguard%40example.co.jp@smtp-relay.gmail.com:587",
                 id="starttls-encoded-user"),
])
def test_smtp_user_without_password_stops(tmp_path: Path, mailer: str) -> None:
    d = Deployer(tmp_path)
    result, calls = d.run("--mailer", mailer)
    assert result.code == 2
    assert "--smtp-password-file" in result.stderr
    assert find(calls, "run deploy") == []


def test_missing_kms_key_stops_before_the_database(tmp_path: Path) -> None:
    kms = "projects/sample-proj/locations/asia-northeast1/keyRings/sg/cryptoKeys/wrap"
    d = Deployer(tmp_path)
    result, calls = d.run("--mailer", MAILER, "--kms-key", kms)
    assert result.code == 2
    assert "not found" in result.stderr
    assert find(calls, "sql instances create") == []

    other = tmp_path / "with-key"
    other.mkdir()
    d2 = Deployer(other, exists=[f"kms keys {kms}"])
    ok, calls2 = d2.run("--mailer", MAILER, "--kms-key", kms)
    assert ok.code == 0, ok.stderr
    assert find(calls2, f"kms keys add-iam-policy-binding {kms}")
    assert not [c for c in calls2 if "sendguard-master-key" in joined(c["argv"])]


def test_no_gcloud_without_dry_run_is_a_clear_error(tmp_path: Path) -> None:
    result = run_deploy(base_args(write_template(tmp_path), tmp_path / "out", "--mailer", MAILER),
                        tool_dir(tmp_path))
    assert result.code == 2
    assert "gcloud is not installed" in result.stderr


def test_the_written_descriptor_parses_as_googles_deployment(two_runs: TwoRuns) -> None:
    """What deploy.sh writes (and gcloud uploads) parses with the published proto."""
    deployment = parse_descriptor((two_runs.deployer.out / "deployment.json").read_text())
    assert deployment.add_ons.common.homepage_trigger.run_function == (
        f"{SERVICE_URL}/addon/homepage")


@pytest.mark.parametrize("mistake", [
    ('"actions"', '"selectActions"'),
    ('"draftAccess": "METADATA"', '"draftAccess": "EVERYTHING"'),
    ('"authorizationHeader"', '"authorisationHeader"'),
], ids=["invented-field", "bad-enum", "misspelt-field"])
def test_fake_gcloud_refuses_a_descriptor_that_does_not_parse(
        tmp_path: Path, mistake: tuple[str, str]) -> None:
    d = Deployer(tmp_path)
    assert mistake[0] in d.template.read_text()
    d.template.write_text(d.template.read_text().replace(*mistake))
    result, calls = d.run("--mailer", MAILER)
    assert result.code != 0
    assert "INVALID_ARGUMENT" in result.stderr
    assert find(calls, "workspace-add-ons deployments create")
    assert find(calls, "workspace-add-ons deployments install") == []


@pytest.mark.parametrize("flag, granted", [
    pytest.param(("--history-sent-import",), True, id="opted-in"),
    pytest.param((), False, id="default"),
])
def test_history_sent_import_is_an_opt_in_scope(tmp_path: Path, flag: tuple[str, ...],
                                                granted: bool) -> None:
    """--history-sent-import adds gmail.metadata to the descriptor (which still parses as
    Google's Deployment) and tells the service; without it neither happens, so a later run
    without the flag withdraws both."""
    from service.addon.scopes import ALL_SCOPES, HISTORY_IMPORT_SCOPE

    real = (Path(__file__).resolve().parents[2] / "addon" / "deployment.json").read_text()
    d = Deployer(tmp_path)
    d.template = write_template(tmp_path, real)
    result, calls = d.run("--mailer", MAILER, *flag)
    assert result.code == 0, result.stderr
    deployment = parse_descriptor((d.out / "deployment.json").read_text())
    expected = [*ALL_SCOPES[:4], HISTORY_IMPORT_SCOPE, *ALL_SCOPES[4:]] if granted \
        else list(ALL_SCOPES)
    assert list(deployment.oauth_scopes) == expected
    deploy = find(calls, "run deploy sendguard")[0]["argv"]
    assert env_vars(deploy, "update-env-vars")["SENDGUARD_HISTORY_SENT_IMPORT"] == (
        "true" if granted else "false")
