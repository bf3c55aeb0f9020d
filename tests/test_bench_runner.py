"""``make bench`` (benchmarks/run.py): every script runs, one table, non-zero at the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

LINE = ('print("BENCH " + json.dumps({{"name": "{name}", "measured": {measured}, '
        '"target": {target}, "unit": "ms", "ok": {ok}}}))')
SCRIPTS = {
    "met": ("import json\n" + LINE.format(name="fast path", measured=3, target=20, ok=True)
            + "\n"),
    "missed": ("import json, sys\n"
               + LINE.format(name="slow path", measured=30, target=20, ok=False)
               + "\n" + LINE.format(name="other path", measured=1, target=2, ok=True)
               + "\nsys.exit(1)\n"),
    "crash": "raise RuntimeError('benchmark broke')\n",
    "silent": "print('no result line')\n",
    "hang": "import time\nprint('started', flush=True)\ntime.sleep(60)\n",
}


def _bench(tmp_path: Path, names: list[str], timeout: float = 20,
           files: dict[str, str] | None = None) -> tuple[int, str]:
    bench = tmp_path / "benchmarks"
    bench.mkdir(exist_ok=True)
    for name in names:
        (bench / f"bench_{name}.py").write_text(SCRIPTS[name], encoding="utf-8")
    for file_name, script in (files or {}).items():
        (bench / file_name).write_text(SCRIPTS[script], encoding="utf-8")
    res = subprocess.run([sys.executable, str(RUNNER), "--dir", str(bench),
                          "--timeout", str(timeout)], capture_output=True, text=True,
                         timeout=120, check=False)
    return res.returncode, res.stdout


def _row(out: str, script: str, target: str) -> str:
    return next(line for line in out.splitlines()
                if line.startswith(script) and target in line)


def test_all_met_exits_zero(tmp_path: Path) -> None:
    code, out = _bench(tmp_path, ["met"])
    assert code == 0, out
    assert _row(out, "bench_met.py", "fast path").split()[-1] == "met"
    assert "1 of 1 targets met" in out


def test_a_miss_does_not_stop_the_others_and_fails_at_the_end(tmp_path: Path) -> None:
    code, out = _bench(tmp_path, ["missed", "met", "crash", "silent"])
    assert code == 1
    assert _row(out, "bench_missed.py", "slow path").endswith("MISSED")
    assert _row(out, "bench_missed.py", "other path").endswith("met")
    assert _row(out, "bench_met.py", "fast path").endswith("met")   # ran after the miss
    assert "FAILED" in _row(out, "bench_crash.py", "(script)")
    assert "benchmark broke" in _row(out, "bench_crash.py", "(script)")
    assert "FAILED" in _row(out, "bench_silent.py", "(script)")
    assert "2 of 3 targets met" in out


@pytest.mark.parametrize("timeout", [2.0])
def test_a_hanging_script_is_stopped_at_its_deadline(tmp_path: Path, timeout: float) -> None:
    code, out = _bench(tmp_path, ["hang", "met"], timeout=timeout)
    assert code == 1
    assert "TIMEOUT" in _row(out, "bench_hang.py", "(script)")
    assert _row(out, "bench_met.py", "fast path").endswith("met")


def test_a_named_benchmark_runs_and_other_scripts_do_not(tmp_path: Path) -> None:
    """Issue 18 names ``benchmarks/ordinary_mail.py``: it runs like ``bench_*.py``; a helper
    module without the prefix (``benchlib.py``) never runs."""
    code, out = _bench(tmp_path, ["met"], files={"ordinary_mail.py": "missed",
                                                 "helper.py": "crash"})
    assert code == 1, out
    assert _row(out, "ordinary_mail.py", "slow path").endswith("MISSED")
    assert _row(out, "bench_met.py", "fast path").endswith("met")
    assert "helper.py" not in out


def test_the_repository_runs_the_ordinary_mail_benchmark() -> None:
    sys.path.insert(0, str(RUNNER.parent))
    try:
        from run import collect
    finally:
        sys.path.remove(str(RUNNER.parent))
    names = [p.name for p in collect(RUNNER.parent)]
    assert "ordinary_mail.py" in names and "bench_check.py" in names
    assert "benchlib.py" not in names and "run.py" not in names
