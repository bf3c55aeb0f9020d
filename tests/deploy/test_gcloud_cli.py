"""Deploy files checked by the installed Google Cloud SDK's own code, offline.

The dry run's commands go through the real gcloud CLI parser (a wrong flag or value fails
there, before any credential is needed); the Cloud Build upload is listed by the SDK's
gcloudignore code; app.yaml is parsed and validated as ``gcloud app deploy`` does.

The Cloud SDK cannot be installed from the registries this project reaches (PyPI, Debian,
npm), so without it these tests skip, in CI too: they are an extra check where the SDK is
present (it is on the development machines), never the only one.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from service.settings import Config

from .deploy_support import (
    ROOT,
    base_args,
    run_deploy,
    sdk_python,
    sdk_root,
    tool_dir,
    write_template,
)

PARSER = Path(__file__).with_name("gcloud_parse.py")
KMS = "projects/sample-proj/locations/asia-northeast1/keyRings/sendguard/cryptoKeys/wrap"


@dataclass(frozen=True)
class Sdk:
    root: Path
    config: Path      # an empty gcloud configuration: no account, no project


@pytest.fixture(scope="module")
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Sdk:
    root = sdk_root()
    if root is None:
        pytest.skip("the Google Cloud SDK is not installed (no registry here provides it)")
    return Sdk(root, tmp_path_factory.mktemp("gcloud-config"))


def sdk_call(sdk: Sdk, mode: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sdk_python(sdk.root), str(PARSER), str(sdk.root), mode, *args],
                          input=stdin, capture_output=True, text=True, timeout=120, check=False,
                          env={"CLOUDSDK_CONFIG": str(sdk.config), "HOME": str(sdk.config),
                               "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "PATH": "/usr/bin:/bin"})


def dry_run_lines(tmp_path: Path) -> list[str]:
    """Commands of three dry runs that together use every branch the script has."""
    bin_dir = tool_dir(tmp_path)
    template = write_template(tmp_path)
    smtp = tmp_path / "smtp-password"
    smtp.write_text("not-a-real-password")
    policy = tmp_path / "policy.toml"
    policy.write_text("")
    out = tmp_path / "out"
    variants = [
        [],
        ["--kms-key", KMS, "--mailer", "smtps://relay@smtp.example.co.jp:465",
         "--smtp-password-file", str(smtp), "--policy", str(policy),
         "--mail-from", "SendGuard <no-reply@example.co.jp>", "--oauth-client-id", "123.apps"],
        ["--image", "asia-northeast1-docker.pkg.dev/p/r/sendguard:1", "--min-instances", "0"],
    ]
    lines: list[str] = []
    for extra in variants:
        result = run_deploy(["--dry-run", *base_args(template, out, *extra)], bin_dir)
        assert result.code == 0, result.stderr
        lines += [line[2:] for line in result.stdout.splitlines() if line.startswith("+ ")]
    # The two files a real run writes before gcloud reads them.
    out.mkdir()
    (out / "sql-user-flags.yaml").write_text("--password: 0123456789abcdef\n")
    (out / "deployment.json").write_text(template.read_text().replace("${SERVICE_URL}",
                                                                      "https://x.a.run.app"))
    return list(dict.fromkeys(lines))


def test_every_dry_run_command_is_valid_gcloud(sdk: Sdk, tmp_path: Path) -> None:
    lines = dry_run_lines(tmp_path)
    controls = ["gcloud run deploy sendguard --region=asia-northeast1 --bogus-flag",
                "gcloud scheduler jobs create http job --location=asia-northeast1 "
                "--schedule='* * * * *' --uri=https://x --oidc-token-audience",
                "gcloud run deploy sendguard --concurrency=many --project=sample-proj"]
    proc = sdk_call(sdk, "commands", stdin="\n".join(controls + lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == len(controls) + len(lines)
    for control in results[:len(controls)]:
        assert control["code"] == 2, control    # the harness does catch a bad command
    bad: list[dict[str, Any]] = [r for r in results[len(controls):]
                                 if r["code"] != 1 or "active account" not in r["error"]]
    assert not bad, json.dumps(bad, indent=1)
    assert len(lines) > 45


def make_tree(base: Path, files: list[str]) -> None:
    for name in files:
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")


UPLOADED = ["Dockerfile", ".dockerignore", "pyproject.toml", "requirements.lock", "README.md",
            "service/__init__.py", "service/storage/migrations/script.py.mako"]
NOT_UPLOADED = ["var/sendguard.db", "var/master.key", ".venv/bin/python", ".env",
                ".git/config", "tests/test_x.py", "deploy/deploy.sh", "deploy/out/deployment.json",
                "deploy/out/appengine-secrets.yaml", "service/__pycache__/x.cpython-311.pyc",
                "service/policy/__pycache__/rules.cpython-311.pyc", "examples/policy.toml",
                "app.yaml", "docs/security.md", "benchmarks/gunicorn_conf.py",
                "requirements-test.lock"]


def test_build_upload_is_only_the_allow_list(sdk: Sdk, tmp_path: Path) -> None:
    make_tree(tmp_path, UPLOADED + NOT_UPLOADED)
    (tmp_path / "deploy" / "build.gcloudignore").write_text(
        (ROOT / "deploy" / "build.gcloudignore").read_text())
    proc = sdk_call(sdk, "upload", str(tmp_path), "deploy/build.gcloudignore")
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)) == sorted(UPLOADED)


def test_build_upload_of_this_repository(sdk: Sdk) -> None:
    proc = sdk_call(sdk, "upload", str(ROOT), "deploy/build.gcloudignore")
    assert proc.returncode == 0, proc.stderr
    uploaded = set(json.loads(proc.stdout))
    package = {str(p.relative_to(ROOT)) for p in (ROOT / "service").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert uploaded == package | {"Dockerfile", ".dockerignore", "pyproject.toml", "README.md",
                                  "requirements.lock"}


def app_yaml_env(sdk: Sdk, tmp_path: Path, include: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "app.yaml").write_text((ROOT / "app.yaml").read_text())
    if include is not None:
        target = tmp_path / "deploy" / "out" / "appengine-secrets.yaml"
        target.parent.mkdir(parents=True)
        target.write_text(include)
    return sdk_call(sdk, "app-yaml", str(tmp_path / "app.yaml"))


SECRETS_INCLUDE = f"""env_variables:
  DATABASE_URL: "postgresql://sendguard:pw@/sendguard?host=/cloudsql/sample-proj:asia-northeast1:sendguard-db"
  SENDGUARD_MASTER_KEY: "{"ab" * 32}"
  SENDGUARD_STAMP_KEY: "k1:{"cd" * 32}"
"""


def test_app_yaml_is_valid_and_starts_in_production(sdk: Sdk, tmp_path: Path) -> None:
    proc = app_yaml_env(sdk, tmp_path, SECRETS_INCLUDE)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["env"].endswith("STANDARD")
    assert re.fullmatch(r"python3(1[1-9])", info["runtime"])
    # the SDK runs it with `exec`: the server is the process App Engine signals
    assert info["entrypoint"].split() == ["exec", "sendguard", "serve"]
    assert info["service_account"].startswith("sendguard-run@")
    assert info["handlers"] and all(h["secure"] == "always" for h in info["handlers"])
    env = info["env_variables"]
    assert env["DATABASE_URL"].startswith("postgresql://"), "the include is merged"
    assert int(env["SENDGUARD_HTTP_WORKERS"]) * int(env["SENDGUARD_HTTP_THREADS"]) == (
        int(info["max_concurrent_requests"]))
    # With the placeholders filled in, these are exactly the settings production needs.
    filled = {k: v.replace("REPLACE_ME_", "x").replace("REPLACE_ME", "x")
              for k, v in env.items()}
    config = Config.from_env(filled)
    assert config.production and config.base_url.startswith("https://")


def test_app_yaml_without_its_secrets_file_is_refused(sdk: Sdk, tmp_path: Path) -> None:
    proc = app_yaml_env(sdk, tmp_path, None)
    assert proc.returncode != 0
    assert "appengine-secrets.yaml" in proc.stderr
