"""The stamp's cost on the send path (SPEC 10.5): minting ``X-SendGuard-Checked`` into a
25 MB draft (headers rewritten, body canonicalised and MACed) against the stdlib's parse of
the same bytes (what every send already pays to analyse the draft), alternating, CPU time.
Our own target (SPEC sets none): minting costs at most half of that parse, for LF and
CRLF drafts; ``stamp verify`` of the same message likewise."""

from __future__ import annotations

import base64
import os
import sys
from email import policy
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchlib import Timing, alternate, load_note, median, median_ratio, result, runs, timed

from service.stamp.header import mint
from service.stamp.keys import parse_stamp_keys
from service.stamp.verify import MintRecord, Verifier, audit_data

KEYS = parse_stamp_keys("bench1:" + "5a" * 32)
SIZE = 25 * 1024 * 1024


def draft(eol: bytes) -> bytes:
    head = b"From: sato@corp.example.jp\nTo: tanaka@partner.example.com\n" \
           b"Bcc: kiroku@corp.example.jp\nSubject: bench\nMIME-Version: 1.0\n" \
           b"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
    body = base64.encodebytes(os.urandom(SIZE * 3 // 4))
    return (head + body).replace(b"\n", eol)


def main() -> int:
    n = runs()
    ok = True
    print(load_note())
    for name, eol in (("LF", b"\n"), ("CRLF", b"\r\n")):
        raw = draft(eol)
        minted = mint(raw, KEYS, 1_790_000_000, "b" * 22)
        record = MintRecord.from_audit(audit_data(minted.stamp, minted.envelope, []))
        assert record is not None

        def verify(m: bytes = minted.raw, r: MintRecord = record) -> None:
            v = Verifier(KEYS, {r.nonce: r}.get, 1_790_000_100).check(m)
            assert v.status == "valid", v

        def mint_once(raw: bytes = raw) -> Timing:
            return timed(lambda: mint(raw, KEYS, 1_790_000_000, "b" * 22))

        def parse_once(raw: bytes = raw) -> Timing:
            return timed(lambda: BytesParser(policy=policy.default).parsebytes(raw))

        times = alternate({"mint": mint_once, "verify": lambda: timed(verify),
                           "parse": parse_once}, n)
        mint_ms, parse_ms = median(times["mint"]) * 1000, median(times["parse"]) * 1000
        detail = (f"{len(raw) / 1e6:.1f} MB {name} draft, mint {mint_ms:.0f} ms CPU, "
                  f"parse {parse_ms:.0f} ms CPU, median of {n}")
        ok &= result(f"stamp mint, 25 MB {name} draft, CPU vs stdlib parse",
                     median_ratio(times["mint"], times["parse"]), 0.5, "x",
                     reference="email.parser.BytesParser", detail=detail)
        ok &= result(f"stamp verify, 25 MB {name} message, CPU vs stdlib parse",
                     median_ratio(times["verify"], times["parse"]), 0.5, "x",
                     reference="email.parser.BytesParser",
                     detail=f"verify {median(times['verify']) * 1000:.0f} ms CPU")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
