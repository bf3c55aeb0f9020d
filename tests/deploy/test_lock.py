"""The lock files (issue 9): every dependency pinned with hashes, in step with pyproject.toml,
and the container installs from the lock with hash checking."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .deploy_support import ROOT

LOCKS = {"requirements.lock": (), "requirements-test.lock": ("test",)}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
STALE = "is stale: run `make lock` after changing dependencies in pyproject.toml"


def pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``{name: (version, [sha256 hashes])}`` of a ``uv pip compile --generate-hashes`` file."""
    found: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line)
        if m:
            current = canonicalize_name(m.group(1))
            found[current] = (m.group(2), [])
        elif current and (h := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            found[current][1].append(h.group(1))
        elif line and not line.startswith((" ", "#")):
            raise AssertionError(f"{path.name}: unexpected line {line!r}")
    return found


def declared(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


@pytest.mark.parametrize("lock", list(LOCKS))
def test_every_pin_has_hashes(lock: str) -> None:
    found = pins(ROOT / lock)
    assert found, f"{lock} pins nothing"
    assert not [name for name, (_, hashes) in found.items() if not hashes]


@pytest.mark.parametrize("lock", list(LOCKS))
def test_lock_satisfies_pyproject(lock: str) -> None:
    found = pins(ROOT / lock)
    problems = []
    for req in declared(LOCKS[lock]):
        name = canonicalize_name(req.name)
        if name not in found:
            problems.append(f"{req.name} is not pinned")
        elif not req.specifier.contains(found[name][0], prereleases=True):
            problems.append(f"{req.name}=={found[name][0]} is outside {req.specifier}")
    assert not problems, f"{lock} {STALE}: " + "; ".join(problems)


def test_runtime_lock_is_the_test_lock_without_the_test_tools() -> None:
    runtime, test = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-test.lock")
    different = {n: (v, test.get(n, ("missing",))[0]) for n, (v, _) in runtime.items()
                 if test.get(n, ("",))[0] != v}
    assert not different, f"the two locks disagree {different}; {STALE}"


def test_the_image_installs_the_lock_with_hash_checking() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes" in text and "-r requirements.lock" in text
    assert re.search(r"pip install [^\n]*--no-deps [^\n]*\.\s", text)    # nothing re-resolved
    assert "pip check" in text
    assert "!requirements.lock" in (ROOT / ".dockerignore").read_text()


def test_makefile_has_lock_and_audit_targets_outside_the_test_run() -> None:
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^lock:", make, re.M) and re.search(r"^audit:", make, re.M)
    test_recipe = re.search(r"^test:.*\n((?:\t.*\n)+)", make, re.M)
    assert test_recipe and "audit" not in test_recipe.group(0)       # a report, not a gate
