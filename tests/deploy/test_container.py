"""The container: Dockerfile rules, the build context, the package it installs, its command.

Docker cannot build here (no daemon), so the image is checked in parts that can run:
the Dockerfile's instructions are read and held to the rules (slim Python 3.11, non-root,
exec-form ``sendguard serve``, no secrets, no dev extras); the build context is computed
from .dockerignore with Docker's matching rules and the package is really built from
exactly that context. The server that command runs (granian, service/server.py: JSON
logs, graceful shutdown on SIGTERM with a request in flight, ...) is run for real in
tests/deploy/test_server.py.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from .deploy_support import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


# --- Dockerfile ---------------------------------------------------------------------------

def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    out = []
    for line in logical:
        keyword, _, args = line.partition(" ")
        out.append((keyword.upper(), args.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, args in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            result.append([])
        result[-1].append((keyword, args))
    return result


def test_every_stage_is_slim_python_matching_the_project() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(x) for x in re.fullmatch(r">=(\d+)\.(\d+)", requires).groups())  # type: ignore[union-attr]
    all_stages = stages()
    assert len(all_stages) >= 1
    for stage in all_stages:
        image = stage[0][1].split()[0]
        match = re.fullmatch(r"python:(\d+)\.(\d+)-slim(-[a-z]+)?", image)
        assert match, image
        assert (int(match.group(1)), int(match.group(2))) >= minimum


def test_runtime_stage_runs_as_a_numeric_non_root_user() -> None:
    final = stages()[-1]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users, "the runtime stage must switch user"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000, users[-1]
    keywords = [k for k, _ in final]
    assert keywords.index("USER") < keywords.index("CMD")
    assert any(keyword == "RUN" and f"--uid {uid}" in args for keyword, args in final)


def test_cmd_is_exec_form_sendguard_serve() -> None:
    final = stages()[-1]
    cmd = json.loads(next(args for keyword, args in final if keyword == "CMD"))
    assert cmd == ["sendguard", "serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["sendguard"] == "service.commands.main:main"
    serve = (ROOT / "service" / "commands" / "serve.py").read_text()
    assert "from service.server import" in serve   # the one server setup (test_server.py)
    assert not any(k == "ENTRYPOINT" for k, _ in final), "PID 1 must be the server itself"
    assert "gunicorn" not in DOCKERFILE.read_text()


def test_no_secret_and_no_development_extras_in_the_image() -> None:
    for keyword, args in instructions(DOCKERFILE.read_text()):
        if keyword in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"(?i)(key|password|secret|token|database_url|mailer)\b",
                                 args), args
        if keyword == "RUN" and "pip install" in args:
            assert "[" not in args and " -e " not in args, args
        if keyword == "ADD":
            assert "://" not in args, "no downloads at build time"
        if keyword == "COPY":
            assert not re.search(r"(^|\s)(var|\.venv|tests|\.git)(/|\s|$)", args), args


# --- bytecode (issue 12) ----------------------------------------------------------------

# compileall options that take a value (the rest of the words are flags or paths)
_COMPILEALL_VALUED = ("-x", "-j", "-r", "-o", "-d", "-s", "-p", "-e", "-i",
                      "--invalidation-mode")


def compileall_run() -> tuple[list[str], list[str]]:
    """The runtime stage's ``python -m compileall`` RUN: (options, paths)."""
    runs = [args for keyword, args in stages()[-1]
            if keyword == "RUN" and "compileall" in args]
    assert len(runs) == 1, runs
    words = shlex.split(runs[0])
    assert words[:3] == ["python", "-m", "compileall"], words
    options: list[str] = []
    paths: list[str] = []
    rest = iter(words[3:])
    for word in rest:
        if word in _COMPILEALL_VALUED:
            options += [word, next(rest)]
        elif word.startswith("-"):
            options.append(word)
        else:
            paths.append(word)
    return options, paths


def test_the_image_holds_bytecode_for_everything_it_runs() -> None:
    """The slim image ships no bytecode and the runtime user may write none: without it
    each process compiles every module it imports (``sendguard protect`` 0.8 s CPU on a
    5 MB draft instead of 0.3 s). So the runtime stage compiles the standard library of
    its own Python and the virtualenv, after copying it and before dropping root, in the
    hash-based mode that no change of file times invalidates."""
    final = stages()[-1]
    image = final[0][1].split()[0]
    version = re.fullmatch(r"python:(\d+\.\d+)-slim(-[a-z]+)?", image)
    assert version, image
    options, paths = compileall_run()
    assert sorted(paths) == sorted([f"/usr/local/lib/python{version.group(1)}", "/opt/venv"])
    assert options[options.index("--invalidation-mode") + 1] == "unchecked-hash"
    steps = [(k, a) for k, a in final]
    copy = steps.index(("COPY", "--from=build /opt/venv /opt/venv"))
    compile_at = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "compileall" in a)
    user = next(i for i, (k, _) in enumerate(steps) if k == "USER")
    assert copy < compile_at < user
    env = " ".join(a for k, a in final if k == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env      # so nothing is written at run time


@pytest.mark.slow
def test_with_the_images_bytecode_protect_compiles_nothing(tmp_path: Path) -> None:
    """The Dockerfile's compileall options on a copy of the package: a process that may
    not write bytecode then imports protect's whole path without compiling a module of
    ours (the ``compile`` audit event names every source it compiles)."""
    options, _ = compileall_run()
    site = tmp_path / "site"
    shutil.copytree(ROOT / "service", site / "service",
                    ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "compileall", *options, str(site)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    code = ("import sys\n"
            "compiled = []\n"
            "sys.addaudithook(lambda event, args: compiled.append(str(args[1]))"
            " if event == 'compile' else None)\n"
            "import service.commands.main, service.commands.keys, service.delivery.packages\n"
            "import service.storage.sqlite_keys, service.commands.check\n"
            "assert service.commands.main.__file__.startswith(sys.argv[1])\n"
            "print('\\n'.join(c for c in compiled if c.startswith(sys.argv[1])))\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONPATH": os.pathsep.join([str(site), sysconfig.get_paths()["purelib"]])}
    env.pop("PYTHONPYCACHEPREFIX", None)
    run = subprocess.run([sys.executable, "-S", "-c", code, str(site)], capture_output=True,
                         text=True, timeout=60, check=False, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "", f"compiled at run time: {run.stdout}"
    # and the check is real: without the bytecode the same imports compile our modules
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache)
    again = subprocess.run([sys.executable, "-S", "-c", code, str(site)],
                           capture_output=True, text=True, timeout=60, check=False, env=env,
                           cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "service/commands/main.py" in again.stdout.replace(os.sep, "/")


# --- build context (.dockerignore, Docker's matching rules) ------------------------------

def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out += "(?:.*/)?"
            else:
                out += ".*"
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            end = pattern.index("]", i)
            out += "[" + pattern[i + 1:end].replace("\\", "\\\\") + "]"
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += re.escape(c)
        i += 1
    return re.compile(f"^{out}$")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        body = os.path.normpath(line[1:].strip() if negate else line).lstrip("/")
        rules.append((negate, _pattern_regex(body)))
    return rules


def in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    included = True
    for negate, regex in rules:
        if any(regex.match(c) for c in candidates):
            included = negate
    return included


RULES = dockerignore_rules(DOCKERIGNORE.read_text())


@pytest.mark.parametrize(("path", "included"), [
    pytest.param("pyproject.toml", True, id="pyproject"),
    pytest.param("README.md", True, id="readme"),
    pytest.param("service/__init__.py", True, id="package"),
    pytest.param("service/storage/migrations/script.py.mako", True, id="package-data"),
    pytest.param("requirements.lock", True, id="lock"),
    pytest.param("benchmarks/gunicorn_conf.py", False, id="benchmark-reference"),
    pytest.param("var/sendguard.db", False, id="dev-database"),
    pytest.param("var/master.key", False, id="dev-master-key"),
    pytest.param(".env", False, id="dotenv"),
    pytest.param(".venv/bin/python", False, id="virtualenv"),
    pytest.param(".git/config", False, id="git"),
    pytest.param("tests/test_logs.py", False, id="tests"),
    pytest.param("service/devtools/devserver.py", False, id="dev-tools"),
    pytest.param("deploy/deploy.sh", False, id="deploy-script"),
    pytest.param("deploy/out/deployment.json", False, id="generated-files"),
    pytest.param("service/__pycache__/app.cpython-311.pyc", False, id="bytecode-dir"),
    pytest.param("service/policy/rules.pyc", False, id="bytecode-file"),
    pytest.param("examples/policy.toml", False, id="examples"),
])
def test_dockerignore_allows_only_the_package(path: str, included: bool) -> None:
    assert in_context(path, RULES) is included


def context_files() -> list[str]:
    files = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".git/", ".venv/")) or not path.is_file():
            continue
        if in_context(rel, RULES):
            files.append(rel)
    return sorted(files)


def test_everything_the_dockerfile_copies_is_in_the_context() -> None:
    files = set(context_files())
    for keyword, args in instructions(DOCKERFILE.read_text()):
        if keyword != "COPY" or args.startswith("--from"):
            continue
        *sources, _dest = args.split()
        for source in sources:
            if (ROOT / source).is_dir():
                inside = [f for f in files if f.startswith(source.rstrip("/") + "/")]
                assert inside, f"{source} is empty in the build context"
            else:
                assert source in files, f"{source} is not in the build context"


@pytest.mark.slow
def test_the_context_builds_the_whole_package(tmp_path: Path) -> None:
    """pip builds the wheel from exactly the files Docker would send, as the image does."""
    context = tmp_path / "context"
    files = context_files()
    for rel in files:
        target = context / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           "--wheel-dir", str(tmp_path / "wheel"), str(context)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    wheel = next((tmp_path / "wheel").glob("sendguard-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [f for f in files if f.startswith("service/") and not f.endswith(".md")]
    missing = [f for f in shipped if f not in names]
    assert not missing, f"in the source but not installed in the image: {missing}"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "sendguard = service.commands.main:main" in scripts
    assert not [n for n in names if n.startswith("service/devtools/")]
    # what the image runs: `sendguard dev` there is one clear line, never a traceback. -S:
    # no .pth files, so the editable install's finder cannot lend the source tree's dev tools.
    installed = tmp_path / "installed"
    zipfile.ZipFile(wheel).extractall(installed)
    path = os.pathsep.join([str(installed), sysconfig.get_paths()["purelib"]])
    dev = subprocess.run([sys.executable, "-S", "-m", "service", "dev"], capture_output=True,
                         text=True, timeout=60, check=False, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": path, "LANG": "C.UTF-8"})
    assert dev.returncode == 2, dev.stderr
    assert dev.stderr.count("\n") == 1 and "development tool" in dev.stderr, dev.stderr
