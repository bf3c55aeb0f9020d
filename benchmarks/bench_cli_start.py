"""Whole-command time of ``sendguard check`` on a 5-line message (issue 12: <= 0.3 s).

Runs the real console script as a user does, alternating round by round with the
reference in the same run: the bare interpreter of the same venv (``python -c pass``),
which no command can beat. Reports medians of CPU time (user + system of the child; on a
shared machine the steadier number) with wall time and the load alongside, and what the
command imports that it should not (the database stack, Flask).

    .venv/bin/python benchmarks/bench_cli_start.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import alternate, load_note, median, result, runs, timed_command

TARGET_S = 0.3
MESSAGE = (b"From: Sato <sato@example.co.jp>\nTo: tanaka@partner.example.com\n"
           b"Subject: hello\n\nThank you for yesterday.\n")
HEAVY = {"sqlalchemy", "alembic", "mako", "psycopg", "flask", "gunicorn", "granian"}


def imported(message: Path) -> set[str]:
    out = subprocess.run([sys.executable, "-X", "importtime", "-m", "service", "check",
                          str(message)], capture_output=True, text=True, check=True).stderr
    return {line.split("|")[-1].strip().split(".")[0] for line in out.splitlines()
            if line.startswith("import time:") and "|" in line}


def main() -> int:
    exe = Path(sys.executable).with_name("sendguard")
    with tempfile.TemporaryDirectory() as tmp:
        message = Path(tmp) / "five-lines.eml"
        message.write_bytes(MESSAGE)
        check = ([str(exe)] if exe.exists() else [sys.executable, "-m", "service"]) + [
            "check", str(message)]
        timed_command(check)                              # warm the page cache once
        rounds = alternate({"check": lambda: timed_command(check),
                            "python": lambda: timed_command([sys.executable, "-c", "pass"])},
                           runs(9))
        heavy = sorted(imported(message) & HEAVY)
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
