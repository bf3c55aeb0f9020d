"""Whole-command time of ``sendguard check`` on a 5-line message (issue 12: <= 0.3 s).

Runs the real console script as a user does, alternating with the reference in the same
run: the bare interpreter of the same venv (``python -c pass``), which no command can
beat. Prints medians of wall time and of CPU time (user + system of the child; on a
shared machine CPU time is the steadier of the two) and what the command imports that it
should not (the database stack).

    .venv/bin/python benchmarks/bench_cli_start.py
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.3
RUNS = 9
MESSAGE = (b"From: Sato <sato@example.co.jp>\nTo: tanaka@partner.example.com\n"
           b"Subject: hello\n\nThank you for yesterday.\n")


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def imported(python: str, message: Path) -> set[str]:
    out = subprocess.run([python, "-X", "importtime", "-m", "service", "check", str(message)],
                         capture_output=True, text=True, check=True).stderr
    return {line.split("|")[-1].strip().split(".")[0] for line in out.splitlines()
            if line.startswith("import time:") and "|" in line}


def main() -> int:
    bindir = Path(sys.executable).parent
    command = str(bindir / "sendguard")
    python = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        message = Path(tmp) / "five-lines.eml"
        message.write_bytes(MESSAGE)
        env_ok = os.access(command, os.X_OK)
        check = [command, "check", str(message)] if env_ok else \
            [python, "-m", "service", "check", str(message)]
        timed(check)                                    # warm the page cache once
        runs: dict[str, list[tuple[float, float]]] = {"check": [], "python": []}
        for _ in range(RUNS):                           # alternating: same load for both
            runs["check"].append(timed(check))
            runs["python"].append(timed([python, "-c", "pass"]))
        heavy = sorted(imported(python, message) & {"sqlalchemy", "alembic", "mako",
                                                    "psycopg", "flask", "gunicorn"})
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
           for k, v in runs.items()}
    check_wall, check_cpu = med["check"]
    py_wall, py_cpu = med["python"]
    print(f"sendguard check, 5-line message: wall median {check_wall * 1000:6.0f} ms, "
          f"CPU median {check_cpu * 1000:6.0f} ms  ({RUNS} runs)")
    print(f"reference python -c pass:        wall median {py_wall * 1000:6.0f} ms, "
          f"CPU median {py_cpu * 1000:6.0f} ms")
    print(f"command minus interpreter start: CPU {1000 * (check_cpu - py_cpu):6.0f} ms; "
          f"heavy modules imported: {', '.join(heavy) or 'none'}")
    ok = check_cpu <= TARGET_S and not heavy
    print(f"target: whole command <= {TARGET_S * 1000:.0f} ms CPU, no database stack: "
          f"{'met' if ok else 'MISSED'} (wall {check_wall * 1000:.0f} ms on this machine's "
          f"load: {os.getloadavg()[0]:.1f})")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
