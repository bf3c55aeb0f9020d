"""``make bench``: run every ``benchmarks/bench_*.py``, then one table of measured vs target.

Every script runs, whatever the others did; the exit status is non-zero at the end when a
target was missed or a script failed. Each script is a separate process (its own imports
and peak memory) with a deadline. The convention the scripts follow is in README.md.

    .venv/bin/python benchmarks/run.py [NAME_PART ...] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

HERE = Path(__file__).resolve().parent
PREFIX = "BENCH "


@dataclass
class Outcome:
    script: str
    status: str = "ok"       # ok | missed | failed | timeout
    seconds: float = 0.0
    results: list[dict[str, object]] = field(default_factory=list)
    note: str = ""


def run_one(path: Path, timeout: float) -> Outcome:
    out = Outcome(path.name)
    start = time.monotonic()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, str(path)], cwd=path.parent.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", start_new_session=True)
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True)
    reader.start()
    tail: list[str] = []
    deadline = start + timeout
    while True:   # shown as it comes: a long benchmark is not silent
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            os.killpg(proc.pid, signal.SIGKILL)   # the script and whatever it started
            proc.wait()
            out.status, out.note = "timeout", f"stopped after {timeout:.0f} s"
            out.seconds = time.monotonic() - start
            return out
        if line is None:
            break
        if line.startswith(PREFIX):
            try:
                out.results.append(json.loads(line[len(PREFIX):]))
            except json.JSONDecodeError:
                out.note = f"unreadable result line: {line.strip()[:80]}"
        print(f"  {line}", end="", flush=True)
        if line.strip():
            tail = [*tail, line.strip()][-3:]
    code = proc.wait()
    out.seconds = time.monotonic() - start
    missed = any(not r.get("ok") for r in out.results)
    if code not in (0, 1) or (code == 1 and not missed) or not out.results:
        out.status = "failed"
        last = tail[-1] if tail else "no output"
        out.note = out.note or (f"exit {code}: {last}" if out.results or code else
                                f"no result line; last output: {last}")[:160]
    elif missed or code == 1:
        out.status = "missed"
    return out


def _pump(stream: TextIO, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


def _fmt(value: object, unit: object) -> str:
    if isinstance(value, int | float):
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
        return f"{text} {unit}".strip()
    return str(value)


def table(outcomes: list[Outcome]) -> str:
    rows: list[tuple[str, str, str, str, str]] = [("script", "target", "measured", "goal", "")]
    for o in outcomes:
        for r in o.results:
            op = ">=" if r.get("higher_is_better") else "<="
            rows.append((o.script, str(r.get("name", "?")), _fmt(r.get("measured"), r.get("unit")),
                         f"{op} {_fmt(r.get('target'), r.get('unit'))}",
                         "met" if r.get("ok") else "MISSED"))
        if o.status in ("failed", "timeout"):
            rows.append((o.script, "(script)", "-", "-", f"{o.status.upper()}: {o.note}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, row in enumerate(rows):
        cells = (c.ljust(w) for c, w in zip(row[:4], widths, strict=True))
        lines.append("  ".join(cells) + "  " + row[4])
        if i == 0:
            lines.append("-" * (sum(widths) + 14))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run only scripts whose name contains one of these")
    parser.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float,
                        default=float(os.environ.get("BENCH_TIMEOUT", "900")),
                        help="deadline per script in seconds (default 900, $BENCH_TIMEOUT)")
    args = parser.parse_args(argv)
    scripts = sorted(args.dir.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if any(part in s.name for part in args.only)]
    if not scripts:
        print("no benchmark matched", file=sys.stderr)
        return 2
    one, five, _ = os.getloadavg()
    print(f"benchmarks: {len(scripts)} scripts; load average {one:.1f}/{five:.1f} on "
          f"{os.cpu_count()} CPUs at start", flush=True)
    outcomes = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        outcomes.append(run_one(script, args.timeout))
        print(f"== {script.name}: {outcomes[-1].status} in {outcomes[-1].seconds:.0f} s",
              flush=True)
    one, five, _ = os.getloadavg()
    print(f"\nload average {one:.1f}/{five:.1f} at the end\n")
    print(table(outcomes))
    bad = [o for o in outcomes if o.status != "ok"]
    met = sum(bool(r.get("ok")) for o in outcomes for r in o.results)
    total = sum(len(o.results) for o in outcomes)
    print(f"\n{met} of {total} targets met; "
          + ("every script ran cleanly" if not bad else
             "not clean: " + ", ".join(f"{o.script} ({o.status})" for o in bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
