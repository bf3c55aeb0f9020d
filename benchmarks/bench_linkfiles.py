"""Link mode's file sealing (chunked AES-256-GCM, issue 15) against ``openssl enc`` on the
same 200 MB file, in the same run.

Contenders, one round each in turn, each a fresh process (so its peak RSS is its own):

- ours, seal: read the file in 1 MiB pieces, ``encrypt_stream`` into ``LocalFileStore``;
- ours, open: ``decrypt_range`` of the whole object, written to a file;
- reference: ``openssl enc -aes-256-ctr`` (and ``-d``) on the same file. The openssl CLI
  does not offer AEAD modes such as GCM in ``enc``, so CTR — the cipher GCM is built on,
  without the GHASH tag — is the closest it offers: a slightly generous reference.

Reported: medians of CPU-time ratios ours/openssl (user + system), throughput in MB/s of
wall time, and the peak RSS (``ru_maxrss`` from ``wait4``) of our processes, which must not
grow with the file (bounded memory). Before timing, the opened file is compared with the
original byte for byte.

    .venv/bin/python benchmarks/bench_linkfiles.py [--runs N] [--mb N]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchlib import Timing, alternate, load_note, median, median_ratio, result, runs

MB = 1024 * 1024
TARGET_CPU_RATIO = 1.5        # seal/open CPU <= 1.5x openssl's AES-256-CTR on the same file
TARGET_RSS_MB = 120.0         # bounded memory: far below the 200 MB file


def worker(mode: str, src: str, dst: str, key_hex: str) -> None:
    from service.files.crypt import decrypt_range, encrypt_stream, file_key
    from service.files.store import LocalFileStore

    key = file_key(bytes.fromhex(key_hex), 0)
    store = LocalFileStore(Path(dst).parent)
    if mode == "seal":
        def pieces() -> Iterator[bytes]:
            with open(src, "rb") as f:
                while chunk := f.read(MB):
                    yield chunk
        store.put(Path(dst).name, encrypt_stream(key, pieces()))
    else:
        size = int(os.environ["BENCH_SIZE"])
        name = Path(src).name
        src_store = LocalFileStore(Path(src).parent)
        with open(dst, "wb") as out:
            for piece in decrypt_range(key, size, lambda o, n: src_store.read(name, o, n)):
                out.write(piece)


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[Timing, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv[:3]} failed: {err.decode(errors='replace')}")
    return Timing(usage.ru_utime + usage.ru_stime, wall), usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=runs())
    ap.add_argument("--mb", type=int, default=200)
    ap.add_argument("--worker", nargs=4, metavar=("MODE", "SRC", "DST", "KEY"))
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    size = args.mb * MB
    key_hex = secrets.token_hex(32)
    iv_hex = secrets.token_hex(16)
    me = [sys.executable, str(Path(__file__).resolve())]
    env = dict(os.environ, BENCH_SIZE=str(size))
    rss: dict[str, list[float]] = {"seal": [], "open": []}
    with tempfile.TemporaryDirectory(prefix="bench-link-") as tmp:
        t = Path(tmp)
        src = t / "plain.bin"
        with open(src, "wb") as f:
            for _ in range(args.mb):
                f.write(os.urandom(MB))
        obj = t / ("ab" * 16)
        back = t / "opened.bin"

        def ours(mode: str) -> Timing:
            paths = (src, obj) if mode == "seal" else (obj, back)
            if mode == "seal" and obj.exists():
                obj.unlink()
            timing, peak = run([*me, "--worker", mode, str(paths[0]), str(paths[1]), key_hex],
                               env)
            rss[mode].append(peak)
            return timing

        def openssl(decrypt: bool) -> Timing:
            inp, out = (t / "ossl.bin", t / "ossl.out") if decrypt else (src, t / "ossl.bin")
            timing, _ = run(["openssl", "enc", "-aes-256-ctr", *(["-d"] if decrypt else []),
                             "-K", key_hex, "-iv", iv_hex, "-in", str(inp), "-out", str(out)])
            return timing

        ours("seal")
        ours("open")
        assert filecmp.cmp(src, back, shallow=False), "opened file differs"
        rss = {"seal": [], "open": []}
        times = alternate({"seal": lambda: ours("seal"), "openssl": lambda: openssl(False),
                           "open": lambda: ours("open"),
                           "openssl -d": lambda: openssl(True)}, args.runs)
    print(f"{args.mb} MB file, {args.runs} rounds; {load_note()}")
    for name, ts in times.items():
        print(f"  {name:<11} CPU {median(ts):6.2f} s  wall {median(ts, 'wall'):6.2f} s  "
              f"{args.mb / median(ts, 'wall'):7.0f} MB/s")
    ok = True
    for mode, ref in (("seal", "openssl"), ("open", "openssl -d")):
        ratio = median_ratio(times[mode], times[ref])
        ok &= result(f"link files: {mode} {args.mb} MB, CPU vs openssl aes-256-ctr", ratio,
                     TARGET_CPU_RATIO, "x", reference=f"openssl enc -aes-256-ctr"
                     f"{' -d' if mode == 'open' else ''}",
                     detail=f"{args.mb / median(times[mode], 'wall'):.0f} MB/s wall; "
                            f"openssl {args.mb / median(times[ref], 'wall'):.0f} MB/s")
        ok &= result(f"link files: {mode} {args.mb} MB, peak RSS", max(rss[mode]),
                     TARGET_RSS_MB, "MB", detail="fresh process, ru_maxrss")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
