"""Whole-command time of ``sendguard check`` on a 5-line message (issue 12: <= 0.3 s).

Runs the real console script as a user does, alternating round by round with the
reference in the same run: the bare interpreter of the same venv (``python -c pass``),
which no command can beat. Reports medians of CPU time (user + system of the child; on a
shared machine the steadier number) with wall time and the load alongside, and what the
command imports that it should not (the database stack, Flask).

Measured as a new user runs it: in an empty directory, no database configured. Where a
database exists (``DATABASE_URL``, or ``./var/sendguard.db`` after ``make run``), check
opens it to look for the sender's history (SPEC 10.2) and importing SQLAlchemy alone
costs about 0.5 s more; that case is not this target (a make bench run from a checkout
that had run ``make run`` once measured it: 0.85 s, 1 module).

    .venv/bin/python benchmarks/bench_cli_start.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import alternate, load_note, median, result, runs, timed_command

TARGET_S = 0.3
MESSAGE = (b"From: Sato <sato@example.co.jp>\nTo: tanaka@partner.example.com\n"
           b"Subject: hello\n\nThank you for yesterday.\n")
HEAVY = {"sqlalchemy", "alembic", "mako", "psycopg", "flask", "gunicorn", "granian"}


def clean_env(tmp: str) -> dict[str, str]:
    """A new user's setting: no database configured and none under ./var (run in ``tmp``).
    Where one exists, check opens it for the sender's history (SPEC 10.2), by design."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SENDGUARD_VAR_DIR", "SENDGUARD_POLICY")}
    return {**env, "SENDGUARD_VAR_DIR": str(Path(tmp) / "var")}


def imported(message: Path, env: dict[str, str]) -> set[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "service", "check",
                          str(message)], capture_output=True, text=True, check=True,
                         env=env, cwd=message.parent).stderr
    return {line.split("|")[-1].strip().split(".")[0] for line in out.splitlines()
            if line.startswith("import time:") and "|" in line}


def main() -> int:
    exe = Path(sys.executable).with_name("sendguard")
    with tempfile.TemporaryDirectory() as tmp:
        message = Path(tmp) / "five-lines.eml"
        message.write_bytes(MESSAGE)
        check = ([str(exe)] if exe.exists() else [sys.executable, "-m", "service"]) + [
            "check", str(message)]
        env = clean_env(tmp)
        timed_command(check, env=env, cwd=tmp)            # warm the page cache once
        rounds = alternate({"check": lambda: timed_command(check, env=env, cwd=tmp),
                            "python": lambda: timed_command([sys.executable, "-c", "pass"])},
                           runs(9))
        heavy = sorted(imported(message, env) & HEAVY)
    cpu, wall = median(rounds["check"]), median(rounds["check"], "wall")
    print(f"sendguard check, 5-line message: CPU median {cpu * 1000:.0f} ms, wall median "
          f"{wall * 1000:.0f} ms; python -c pass: CPU {median(rounds['python']) * 1000:.0f} ms, "
          f"wall {median(rounds['python'], 'wall') * 1000:.0f} ms; {load_note()}")
    print(f"heavy modules imported by check: {', '.join(heavy) or 'none'}")
    ok = result("sendguard check, 5-line message, whole command (CPU median)", cpu, TARGET_S,
                "s", reference="python -c pass",
                detail=f"wall {wall:.2f} s; heavy imports: {', '.join(heavy) or 'none'}")
    ok = result("modules of the database stack and Flask imported by check", len(heavy), 0,
                "modules", detail=", ".join(heavy) or "none") and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
