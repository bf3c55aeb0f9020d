"""What every ``benchmarks/bench_*.py`` shares: the result line, alternation, CPU of a child.

The convention (benchmarks/README.md): a benchmark prints whatever it likes for people and,
for each target it checks, one machine-readable line made by ``result``::

    BENCH {"name": "protect 25 MB, in-process CPU vs 7zz", "measured": 0.11, "target": 0.25,
           "unit": "x", "ok": true, "reference": "7zz a -tzip -mem=AES256", ...}

and exits 0 when every target was met, 1 when one was missed (anything else is an error).
``benchmarks/run.py`` (``make bench``) runs every script and tabulates those lines.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

PREFIX = "BENCH "
QUICK = os.environ.get("BENCH_QUICK") == "1"   # fewer runs, for a smoke test of the runner
MIN_RUNS = 5


def result(name: str, measured: float, target: float, unit: str, *, higher_is_better: bool = False,
           reference: str = "", detail: str = "") -> bool:
    """Print one result line and return whether the target was met."""
    ok = measured >= target if higher_is_better else measured <= target
    print(PREFIX + json.dumps({
        "name": name, "measured": round(measured, 4), "target": target, "unit": unit,
        "ok": ok, "higher_is_better": higher_is_better, "reference": reference,
        "detail": detail}, ensure_ascii=False), flush=True)
    return ok


def runs(default: int = MIN_RUNS) -> int:
    """How many alternating runs: ``BENCH_RUNS``, else ``default`` (3 with BENCH_QUICK)."""
    if "BENCH_RUNS" in os.environ:
        return max(1, int(os.environ["BENCH_RUNS"]))
    return 3 if QUICK else max(default, MIN_RUNS)


@dataclass(frozen=True)
class Timing:
    """CPU seconds (user + system, threads and children included) and wall seconds."""

    cpu: float
    wall: float


def timed(fn: Callable[[], object]) -> Timing:
    """Run ``fn`` in this process."""
    start_cpu, start = time.process_time(), time.perf_counter()
    fn()
    return Timing(time.process_time() - start_cpu, time.perf_counter() - start)


def timed_command(argv: Sequence[str], **kwargs: object) -> Timing:
    """Run a command to completion; its own CPU time (all its threads) from ``wait4``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            **kwargs)  # type: ignore[call-overload]
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err.decode(errors='replace')}")
    return Timing(usage.ru_utime + usage.ru_stime, wall)


def alternate(contenders: dict[str, Callable[[], Timing]], n: int) -> dict[str, list[Timing]]:
    """Run each contender once per round, in turn, ``n`` rounds: load hits all alike."""
    out: dict[str, list[Timing]] = {name: [] for name in contenders}
    for _ in range(n):
        for name, fn in contenders.items():
            out[name].append(fn())
    return out


def median_ratio(ours: Sequence[Timing], ref: Sequence[Timing], what: str = "cpu") -> float:
    """Median of the per-round ratios (each round's pair ran back to back)."""
    ratios: list[float] = [getattr(a, what) / getattr(b, what)
                           for a, b in zip(ours, ref, strict=True)]
    return statistics.median(ratios)


def median(times: Sequence[Timing], what: str = "cpu") -> float:
    values: list[float] = [getattr(t, what) for t in times]
    return statistics.median(values)


def load_note() -> str:
    """The machine's load when measured (numbers here are shared-CPU numbers)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} CPUs"


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM, not ru_maxrss, which a fork inherits)."""
    try:
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("VmHWM:")).split()[1]) / 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
