"""Benchmark ``protect`` on a 25 MB mixed draft against 7-Zip on the same files (SPEC 9).

Targets: wall time <= ``7zz a -tzip -mem=AES256`` on the same files in the same run;
peak memory <= 3 x the message size + 100 MB. Run: ``.venv/bin/python benchmarks/bench_protect.py``.
Prints medians of 3 runs and the peak RSS of a child process that runs protect_message.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from service.protect import archive
from service.protect.archive import ArchiveFile, encrypt_files
from service.protect.mime import _Blobs, parse_message, protect_message
from service.protect.password import generate_password

MB = 1024 * 1024
RUNS = 3


def _csv(rng: random.Random, size: int) -> bytes:
    """Staff-list-like CSV: realistic repetition, not a single repeated line."""
    surnames = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
    given = ["太郎", "花子", "一郎", "美咲", "健太", "由美", "翔", "陽菜", "大輔", "結衣"]
    depts = ["総務部", "営業部", "開発部", "経理部", "人事部"]
    out = io.BytesIO()
    out.write("社員番号,氏名,部署,電話,メール,入社日\n".encode())
    n = 0
    while out.tell() < size:
        n += 1
        out.write((f"{n:07d},{rng.choice(surnames)} {rng.choice(given)},{rng.choice(depts)},"
                   f"0{rng.randint(3, 99)}-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)},"
                   f"user{rng.randint(1, 99999)}@example.co.jp,"
                   f"20{rng.randint(0, 26):02d}-{rng.randint(1, 12):02d}-"
                   f"{rng.randint(1, 28):02d}\n").encode())
    return out.getvalue()[:size]


def _log(rng: random.Random, size: int) -> bytes:
    words = ["GET", "POST", "/api/v1/items", "/login", "200", "302", "404", "500", "user",
             "session", "token", "ok", "error", "timeout", "retry", "cache", "hit", "miss"]
    out = io.BytesIO()
    while out.tell() < size:
        out.write((f"2026-11-{rng.randint(1, 30):02d}T{rng.randint(0, 23):02d}:"
                   f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} "
                   + " ".join(rng.choice(words) for _ in range(8)) + "\n").encode())
    return out.getvalue()[:size]


def build_files(dest: Path) -> list[tuple[Path, str]]:
    """~12 MB compressible text and ~13 MB already-compressed data, several files each."""
    rng = random.Random(2026)
    jpeg_head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    specs = [
        ("社員名簿.csv", "text/csv", _csv(rng, 6 * MB)),
        ("access.log", "text/plain", _log(rng, 3 * MB)),
        ("議事録.txt", "text/plain", _csv(rng, 3 * MB).replace(b",", b" ")),
        ("photo1.jpg", "image/jpeg", jpeg_head + os.urandom(4 * MB)),
        ("photo2.jpg", "image/jpeg", jpeg_head + os.urandom(3 * MB)),
        ("見積書.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(3 * MB)),
        ("backup.bin", "application/octet-stream", os.urandom(3 * MB)),
    ]
    files = []
    for name, ctype, data in specs:
        path = dest / name
        path.write_bytes(data)
        files.append((path, ctype))
    return files


def build_message(files: list[tuple[Path, str]]) -> bytes:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = "佐藤 花子 <sato@example.co.jp>"
    msg["To"] = "tanaka@client.example.jp"
    msg["Subject"] = "資料送付"
    msg["Message-ID"] = "<bench@example.co.jp>"
    msg.set_content("資料をお送りします。\n")
    msg.add_alternative("<p>資料をお送りします。</p>", subtype="html")
    for path, ctype in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype,
                           filename=path.name)
    return msg.as_bytes()


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# VmHWM, not ru_maxrss: Linux carries the parent's peak into ru_maxrss across fork+exec.
_CHILD = """
import resource, sys
from service.protect.mime import _Blobs, parse_message, protect_message

def peak_kb():
    try:
        with open("/proc/self/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

raw = open(sys.argv[1], "rb").read()
before = peak_kb()
result = protect_message(raw, sys.argv[2])
print(before, peak_kb(), len(result.message))
"""


def child_peak(eml: Path, password: str) -> tuple[float, float]:
    """Peak RSS (MB) of a fresh process running protect_message once, and its baseline
    (interpreter, imports and the draft read into memory)."""
    out = subprocess.run([sys.executable, "-c", _CHILD, str(eml), password],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1024, int(out[1]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs of each (median)")
    parser.add_argument("--level", type=int, default=archive.COMPRESSLEVEL,
                        help="zlib level for deflated entries (default: the shipped one)")
    args = parser.parse_args()
    archive.COMPRESSLEVEL = args.level
    sevenzip = shutil.which("7zz")
    if sevenzip is None and os.environ.get("CI") == "true":
        print("7zz (Debian package 7zip) is required in CI", file=sys.stderr)
        return 1
    password = generate_password()
    with tempfile.TemporaryDirectory(prefix="bench-protect-") as tmp:
        work = Path(tmp)
        src = work / "files"
        src.mkdir()
        files = build_files(src)
        total = sum(p.stat().st_size for p, _ in files)
        raw = build_message(files)
        eml = work / "draft.eml"
        eml.write_bytes(raw)
        print(f"draft: {len(files)} attachments, {total / MB:.1f} MB of files "
              f"(~12 MB text/CSV, ~13 MB JPEG/PDF/random), message {len(raw) / MB:.1f} MB")
        print(f"zlib level {archive.COMPRESSLEVEL}; {args.runs} runs each, interleaved "
              f"(protect, 7zz, protect, 7zz, ...) so machine load hits both alike")

        result = protect_message(raw, password)
        zip_part = next(p for p in BytesParser(policy=policy.default).parsebytes(
            result.message).walk() if p.get_content_type() == "application/zip")
        zip_bytes = zip_part.get_payload(decode=True)
        zip_size = len(zip_bytes)
        if sevenzip is not None:  # the archive we time must be one 7-Zip opens
            ours = work / "ours.zip"
            ours.write_bytes(zip_bytes)
            subprocess.run([sevenzip, "t", f"-p{password}", str(ours)], check=True,
                           capture_output=True)
        in_memory = [ArchiveFile(p.name, p.read_bytes(), c) for p, c in files]
        out_zip = work / "7z.zip"

        def run_7zz() -> None:
            out_zip.unlink(missing_ok=True)
            subprocess.run([str(sevenzip), "a", "-tzip", "-mem=AES256", f"-p{password}",
                            str(out_zip), *[str(p) for p, _ in files]],
                           check=True, capture_output=True)

        t_protect, t_zip, t_parse, t_7z = [], [], [], []
        for _ in range(args.runs):
            t_protect.append(timed(lambda: protect_message(raw, password)))
            if sevenzip is not None:
                t_7z.append(timed(run_7zz))
            t_zip.append(timed(lambda: encrypt_files(in_memory, password, io.BytesIO())))
            t_parse.append(timed(lambda: parse_message(raw, "en", _Blobs(raw))))

        def show(label: str, times: list[float]) -> float:
            med = statistics.median(times)
            print(f"{label:<38} median {med:6.3f} s   runs {[round(t, 3) for t in times]}")
            return med

        med_protect = show("protect_message (whole draft)", t_protect)
        show("  parse (with base64 runs cut out)", t_parse)
        show("  encrypt_files (same files, in memory)", t_zip)
        print(f"  protect output {len(result.message) / MB:.1f} MB, ZIP {zip_size / MB:.1f} MB")
        ok = True
        if sevenzip is None:
            print("7zz not installed: time comparison skipped")
        else:
            med_7z = show("7zz a -tzip -mem=AES256", t_7z)
            print(f"  7zz ZIP {out_zip.stat().st_size / MB:.1f} MB")
            time_ok = med_protect <= med_7z
            ok &= time_ok
            print(f"time target (protect <= 7zz): {'MET' if time_ok else 'MISSED'} "
                  f"(protect takes {med_protect / med_7z:.2f}x of 7zz's time)")

        base, peak = child_peak(eml, password)
        target = 3 * len(raw) / MB + 100
        mem_ok = peak <= target
        ok &= mem_ok
        print(f"peak RSS of a child running protect_message: {peak:.0f} MB "
              f"(interpreter + imports + draft read: {base:.0f} MB)")
        print(f"memory target (<= 3 x {len(raw) / MB:.1f} MB + 100 MB = {target:.0f} MB): "
              f"{'MET' if mem_ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
