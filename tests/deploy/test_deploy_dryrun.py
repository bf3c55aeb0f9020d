"""deploy.sh --dry-run: the complete deployment, in order, guarded, with no secret in it.

The dry run executes on a PATH that holds only the tools the script needs, gcloud not
among them: it must print every command without running any.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from service.settings import Config

from .deploy_support import (
    ROOT,
    Result,
    base_args,
    env_vars,
    first_index,
    joined,
    run_deploy,
    tool_dir,
    write_template,
)
from .fake_gcloud import resource_key, split

KMS = "projects/sample-proj/locations/asia-northeast1/keyRings/sendguard/cryptoKeys/wrap"
RUN_SA = "sendguard-run@sample-proj.iam.gserviceaccount.com"
SCHED_SA = "sendguard-scheduler@sample-proj.iam.gserviceaccount.com"
CONNECTION = "sample-proj:asia-northeast1:sendguard-db"


@pytest.fixture
def dry(tmp_path: Path) -> Result:
    bin_dir = tool_dir(tmp_path)
    result = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out")],
                        bin_dir)
    assert result.code == 0, result.stderr
    return result


def test_dry_run_needs_no_gcloud_and_writes_nothing(tmp_path: Path, dry: Result) -> None:
    assert not (tmp_path / "bin" / "gcloud").exists()
    assert dry.commands, dry.stdout
    assert all(argv[0] == "gcloud" for argv in dry.commands)
    assert not (tmp_path / "out").exists()


# The deployment, step by step: each pattern must match a command after the previous one.
ORDER = [
    ("project number", r"^gcloud projects describe sample-proj --format=value\(projectNumber\)"),
    ("APIs", r"^gcloud services enable "),
    ("runtime account", r"^gcloud iam service-accounts create sendguard-run "),
    ("scheduler account", r"^gcloud iam service-accounts create sendguard-scheduler "),
    ("Cloud SQL client role", r"^gcloud projects add-iam-policy-binding .*roles/cloudsql.client"),
    ("SQL instance", r"^gcloud sql instances create sendguard-db .*--database-version=POSTGRES"),
    ("database", r"^gcloud sql databases create sendguard --instance=sendguard-db"),
    ("database user", r"^gcloud sql users create sendguard --instance=sendguard-db --flags-file="),
    ("DATABASE_URL secret", r"^gcloud secrets create sendguard-database-url .*--data-file=-"),
    ("master key secret", r"^gcloud secrets create sendguard-master-key .*--data-file=-"),
    ("secret access", r"^gcloud secrets add-iam-policy-binding sendguard-database-url "),
    ("image registry", r"^gcloud artifacts repositories create sendguard "
                       r"--repository-format=docker"),
    ("image build", r"^gcloud builds submit .* --tag=asia-northeast1-docker.pkg.dev/sample-proj/"),
    ("add-on account", r"^gcloud workspace-add-ons get-authorization "
                       r"--format=value\(serviceAccountEmail\)"),
    ("migration job", r"^gcloud run jobs deploy sendguard-migrate .*--command=sendguard "
                      r"--args=db,upgrade"),
    ("migration run", r"^gcloud run jobs execute sendguard-migrate .*--wait"),
    ("service", r"^gcloud run deploy sendguard "),
    ("service URL", r"^gcloud run services describe sendguard .*--format=value\(status.url\)"),
    ("scheduler", r"^gcloud scheduler jobs create http sendguard-release-due "),
    ("add-on deployment", r"^gcloud workspace-add-ons deployments create sendguard "),
    ("add-on install", r"^gcloud workspace-add-ons deployments install sendguard "),
]


def test_every_step_appears_in_order(dry: Result) -> None:
    position = -1
    for name, pattern in ORDER:
        later = dry.commands[position + 1:]
        index = first_index(later, pattern) if later else -1
        assert index >= 0, f"{name} missing after step {position}"
        position += index + 1


def test_apis_enabled(dry: Result) -> None:
    argv = dry.commands[first_index(dry.commands, r"^gcloud services enable ")]
    apis = {a for a in argv if a.endswith(".googleapis.com")}
    assert {"run.googleapis.com", "sqladmin.googleapis.com", "secretmanager.googleapis.com",
            "cloudscheduler.googleapis.com", "cloudbuild.googleapis.com",
            "artifactregistry.googleapis.com", "gsuiteaddons.googleapis.com",
            "gmail.googleapis.com"} <= apis
    assert "cloudkms.googleapis.com" not in apis


def test_runtime_account_is_least_privilege(dry: Result) -> None:
    project_roles = {a.split("=", 1)[1] for argv in dry.commands
                     if joined(argv).startswith("gcloud projects add-iam-policy-binding")
                     for a in argv if a.startswith("--role=")}
    assert project_roles == {"roles/cloudsql.client", "roles/logging.logWriter"}
    members = {a for argv in dry.commands for a in argv if a.startswith("--member=")}
    assert members == {f"--member=serviceAccount:{RUN_SA}"}, "nothing granted to anyone else"
    secret_grants = {argv[3] for argv in dry.commands
                     if joined(argv).startswith("gcloud secrets add-iam-policy-binding")}
    assert secret_grants == {"sendguard-database-url", "sendguard-master-key",
                             "sendguard-stamp-key"}
    for argv in dry.commands:
        if "add-iam-policy-binding" in argv and argv[1] == "secrets":
            assert "--role=roles/secretmanager.secretAccessor" in argv
    assert not any(re.search(r"roles/(owner|editor|secretmanager\.admin|cloudkms)", joined(a))
                   for a in dry.commands)


def test_migrations_run_once_before_the_service_moves(dry: Result) -> None:
    deploy_job = first_index(dry.commands, r"^gcloud run jobs deploy sendguard-migrate ")
    execute = first_index(dry.commands, r"^gcloud run jobs execute sendguard-migrate ")
    service = first_index(dry.commands, r"^gcloud run deploy sendguard ")
    assert deploy_job < execute < service
    job = dry.commands[deploy_job]
    assert f"--set-cloudsql-instances={CONNECTION}" in job
    assert "--set-secrets=DATABASE_URL=sendguard-database-url:latest" in job
    assert f"--service-account={RUN_SA}" in job
    assert "--max-retries=0" in job
    assert sum("jobs execute" in joined(a) for a in dry.commands) == 1
    build = dry.commands[first_index(dry.commands, r"^gcloud builds submit ")]
    image = next(a for a in build if a.startswith("--tag=")).split("=", 1)[1]
    assert f"--image={image}" in job
    assert f"--image={image}" in dry.commands[service]


def test_service_deploy_settings(dry: Result) -> None:
    argv = dry.commands[first_index(dry.commands, r"^gcloud run deploy sendguard ")]
    assert f"--add-cloudsql-instances={CONNECTION}" in argv
    assert f"--service-account={RUN_SA}" in argv
    assert "--no-invoker-iam-check" in argv and "--ingress=all" in argv
    assert "--no-allow-unauthenticated" not in argv
    secrets = env_vars(argv, "set-secrets")
    assert secrets == {"DATABASE_URL": "sendguard-database-url:latest",
                       "SENDGUARD_MASTER_KEY": "sendguard-master-key:latest",
                       "SENDGUARD_STAMP_KEY": "sendguard-stamp-key:latest"}
    env = env_vars(argv, "update-env-vars")
    assert env["SENDGUARD_ENV"] == "production"
    assert env["SENDGUARD_BASE_URL"].startswith("https://")
    assert env["SENDGUARD_ADDON_AUDIENCE"] == env["SENDGUARD_BASE_URL"]
    assert env["SENDGUARD_ADDON_SERVICE_ACCOUNT"].endswith(
        "@gcp-sa-gsuiteaddons.iam.gserviceaccount.com")
    assert env["SENDGUARD_SCHEDULER_SERVICE_ACCOUNT"] == SCHED_SA
    assert env["GOOGLE_CLOUD_PROJECT"] == "sample-proj"
    for name in ("SENDGUARD_OAUTH_CLIENT_ID", "SENDGUARD_MAILER"):
        assert env[name]
    assert not set(env) & {"DATABASE_URL", "SENDGUARD_MASTER_KEY", "SENDGUARD_SMTP_PASSWORD",
                           "SENDGUARD_STAMP_KEY"}
    concurrency = int(next(a for a in argv if a.startswith("--concurrency=")).split("=")[1])
    assert concurrency == int(env["SENDGUARD_HTTP_WORKERS"]) * int(env["SENDGUARD_HTTP_THREADS"])


def test_scheduler_calls_release_due_with_an_oidc_token(dry: Result) -> None:
    argv = dry.commands[first_index(dry.commands, r"^gcloud scheduler jobs create http ")]
    service = dry.commands[first_index(dry.commands, r"^gcloud run deploy sendguard ")]
    base = env_vars(service, "update-env-vars")["SENDGUARD_BASE_URL"]
    assert f"--uri={base}/tasks/release-due" in argv
    assert "--http-method=POST" in argv
    assert f"--oidc-service-account-email={SCHED_SA}" in argv
    assert f"--oidc-token-audience={base}/tasks/release-due" in argv
    assert "--schedule=* * * * *" in argv


def test_every_create_is_guarded_by_a_describe(dry: Result) -> None:
    described: set[str] = set()
    creates = 0
    for argv in dry.commands:
        group, verb, rest, _ = split(argv[1:])
        key = resource_key(group, verb, rest)
        if verb == "describe":
            described.add(key)
        elif verb == "create":
            creates += 1
            assert key in described, f"{joined(argv)} is not looked up first"
    assert creates >= 10


def test_no_secret_value_is_printed(dry: Result) -> None:
    text = dry.stdout + dry.stderr
    assert not re.search(r"\b[0-9a-f]{32,}\b", text), "something key-shaped was printed"
    assert "password:" not in text.lower()
    assert not re.search(r"postgres(ql)?://[^ ]*:[^ ]*@", text)
    for line in dry.stdout.splitlines():
        if "--data-file=-" in line:
            assert "# stdin:" in line


def test_two_dry_runs_print_the_same_commands(tmp_path: Path, dry: Result) -> None:
    again = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out")],
                       tool_dir(tmp_path))
    tag = re.compile(r"sendguard:\d{8}-\d{6}(-[0-9a-f]+)?")
    assert tag.sub("TAG", again.stdout) == tag.sub("TAG", dry.stdout)


def test_kms_key_replaces_the_master_key_secret(tmp_path: Path) -> None:
    result = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out",
                                                 "--kms-key", KMS)], tool_dir(tmp_path))
    assert result.code == 0, result.stderr
    text = [joined(a) for a in result.commands]
    assert not any("sendguard-master-key" in line for line in text)
    grant = result.commands[first_index(result.commands,
                                        r"^gcloud kms keys add-iam-policy-binding")]
    assert grant[4] == KMS
    assert "--role=roles/cloudkms.cryptoKeyEncrypterDecrypter" in grant
    assert first_index(result.commands, rf"^gcloud kms keys describe {KMS}") < \
        first_index(result.commands, r"^gcloud kms keys add-iam-policy-binding")
    service = result.commands[first_index(result.commands, r"^gcloud run deploy sendguard ")]
    assert env_vars(service, "update-env-vars")["SENDGUARD_KMS_KEY"] == KMS
    assert "SENDGUARD_MASTER_KEY" not in env_vars(service, "set-secrets")
    assert env_vars(service, "set-secrets")["SENDGUARD_STAMP_KEY"] == (
        "sendguard-stamp-key:latest"), "the stamp key does not depend on KMS"
    enable = result.commands[first_index(result.commands, r"^gcloud services enable ")]
    assert "cloudkms.googleapis.com" in enable


def test_prebuilt_image_skips_the_build(tmp_path: Path) -> None:
    image = "asia-northeast1-docker.pkg.dev/other/images/sendguard:1.2.3"
    result = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out",
                                                 "--image", image)], tool_dir(tmp_path))
    assert result.code == 0, result.stderr
    text = [joined(a) for a in result.commands]
    assert not any(line.startswith(("gcloud builds", "gcloud artifacts")) for line in text)
    assert any(line.startswith("gcloud run deploy") and f"--image={image}" in line
               for line in text)


def test_help_prints_usage(tmp_path: Path) -> None:
    result = run_deploy(["--help"], tool_dir(tmp_path))
    assert result.code == 0
    assert result.stdout.startswith("Usage: deploy/deploy.sh")


def test_makefile_target_calls_the_script() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert 'bash deploy/deploy.sh --project "$(PROJECT)" --region "$(REGION)"' in makefile


@pytest.mark.parametrize(("args", "message"), [
    pytest.param([], "--project is required", id="no-project"),
    pytest.param(["--project"], "--project needs a value", id="project-without-value"),
    pytest.param(["--project", "--dry-run"], "--project needs a value", id="flag-as-value"),
    pytest.param(["--project", "Sample_Proj"], "not a project ID", id="bad-project-id"),
    pytest.param(["--project", "sample-proj", "--region", "tokyo"], "not a region",
                 id="bad-region"),
    pytest.param(["--project", "sample-proj", "--bogus"], "unknown argument: --bogus",
                 id="unknown-flag"),
    pytest.param(["--project", "sample-proj", "--service", "Send_Guard"], "--service:",
                 id="bad-service-name"),
    pytest.param(["--project", "sample-proj", "--service", "sendguard-with-a-long-name"],
                 "--service:", id="service-name-too-long"),
    pytest.param(["--project", "sample-proj", "--kms-key", "wrap-key"], "--kms-key must be",
                 id="bad-kms-key"),
    pytest.param(["--project", "sample-proj", "--mailer", "smtps://u:hunter2@smtp.example.jp"],
                 "--mailer must be", id="mailer-with-password"),
    pytest.param(["--project", "sample-proj", "--mailer", "http://smtp.example.jp"],
                 "--mailer must be", id="mailer-not-smtp"),
    pytest.param(["--project", "sample-proj", "--min-instances", "5", "--max-instances", "2"],
                 "--min-instances is above", id="min-above-max"),
    pytest.param(["--project", "sample-proj", "--max-instances", "0"],
                 "must be numbers", id="zero-max-instances"),
    pytest.param(["--project", "sample-proj", "--image", "not an image"], "--image:",
                 id="bad-image"),
])
def test_bad_arguments_exit_2_with_usage(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_deploy(["--dry-run", *args], tool_dir(tmp_path))
    assert result.code == 2
    assert message in result.stderr
    assert "Usage: deploy/deploy.sh" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(("extra", "template", "message"), [
    pytest.param(["--policy", "/nonexistent/policy.toml"], None, "cannot read",
                 id="missing-policy-file"),
    pytest.param(["--max-instances", "30"], None, "needs more than", id="too-many-connections"),
    pytest.param(["--mail-from", "SendGuard, Inc. <a@b.jp>"], None, "may not contain commas",
                 id="comma-in-value"),
    pytest.param([], '{"runFunction": "https://fixed.example/addon"}', "no ${SERVICE_URL}",
                 id="template-without-placeholder"),
    pytest.param([], '{"a": "${SERVICE_URL}", "logo": "${LOGO_URL}"}', "${LOGO_URL}",
                 id="template-unknown-placeholder"),
])
def test_bad_settings_stop_before_any_command(tmp_path: Path, extra: list[str],
                                              template: str | None, message: str) -> None:
    path = write_template(tmp_path) if template is None else write_template(tmp_path, template)
    result = run_deploy(["--dry-run", *base_args(path, tmp_path / "out", *extra)],
                        tool_dir(tmp_path))
    assert result.code == 2
    assert message in result.stderr
    assert result.commands == []


def test_missing_template_is_named(tmp_path: Path) -> None:
    result = run_deploy(["--dry-run", *base_args(tmp_path / "none.json", tmp_path / "out")],
                        tool_dir(tmp_path))
    assert result.code == 2
    assert "add-on descriptor template not found" in result.stderr


def test_repository_template_renders_when_present(tmp_path: Path) -> None:
    """The real addon/deployment.json (written by the add-on work) fits this script."""
    template = ROOT / "addon" / "deployment.json"
    if not template.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("addon/deployment.json is missing: deploy.sh cannot run")
        pytest.skip("addon/deployment.json is not in this checkout yet")
    result = run_deploy(["--dry-run", "--project", "sample-proj", "--out-dir",
                         str(tmp_path / "out")], tool_dir(tmp_path))
    assert result.code == 0, result.stderr


@pytest.mark.parametrize("extra", [
    pytest.param([], id="master-key"),
    pytest.param(["--kms-key", KMS, "--mailer", "smtps://relay@smtp.example.co.jp:465",
                  "--smtp-password-file", "/dev/null"], id="kms-and-smtp-user"),
])
def test_service_settings_satisfy_production_config(tmp_path: Path, extra: list[str]) -> None:
    """What Cloud Run will hand the container is what Config.check_production demands."""
    result = run_deploy(["--dry-run", *base_args(write_template(tmp_path), tmp_path / "out",
                                                 *extra)], tool_dir(tmp_path))
    assert result.code == 0, result.stderr
    argv = result.commands[first_index(result.commands, r"^gcloud run deploy sendguard ")]
    env = env_vars(argv, "update-env-vars")
    secret_values = {"DATABASE_URL": "postgresql://sendguard:pw@/sendguard?host=/cloudsql/x",
                     "SENDGUARD_MASTER_KEY": "ab" * 32, "SENDGUARD_SMTP_PASSWORD": "pw",
                     "SENDGUARD_STAMP_KEY": "k1:" + "cd" * 32}
    for name in env_vars(argv, "set-secrets"):
        env[name] = secret_values[name]
    config = Config.from_env(env)
    assert config.production
    assert config.db_pool_size == 5
    assert bool(config.kms_key) == ("--kms-key" in extra)
    assert bool(config.master_key) != bool(config.kms_key)


def test_script_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        if os.environ.get("CI") == "true":
            pytest.fail("shellcheck is missing (Debian package shellcheck)")
        pytest.skip("shellcheck is not installed (Debian package shellcheck)")
    proc = subprocess.run([shellcheck, "--severity=info", str(ROOT / "deploy" / "deploy.sh")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stdout
