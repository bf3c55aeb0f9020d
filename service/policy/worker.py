"""The content-analysis worker process (``python -m service.policy.worker``).

Started and fed by ``service.addon.analysis.ContentPool``: it reads one task at a time
from stdin (a length-prefixed pickle written by the service itself: draft, policy,
locale, seconds) and answers on stdout with length-prefixed JSON — findings and notes
only, so nothing a hostile attachment could influence is ever unpickled by the service.
It limits its own data size (``RLIMIT_DATA``) and lowers its priority before reading
anything, so a file that explodes in memory ends this process, not the instance, and
interactive requests keep the CPU.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
from typing import IO, Any

_FRAME = struct.Struct(">Q")


def write_frame(out: IO[bytes], data: bytes) -> None:
    out.write(_FRAME.pack(len(data)) + data)
    out.flush()


def read_frame(inp: IO[bytes]) -> bytes | None:
    head = inp.read(_FRAME.size)
    if len(head) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(head)
    data = inp.read(size)
    return data if len(data) == size else None


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    from service.policy.deadline import Deadline
    from service.policy.rules import analyze

    report = analyze(task["draft"], task["policy"], locale=task["locale"],
                     deadline=Deadline(task["seconds"]))
    return {"findings": [{**f.to_json(), "params": f.params} for f in report.findings],
            "notes": report.notes}


def main() -> int:
    import resource

    memory = int(os.environ.get("SENDGUARD_WORKER_MEMORY", "0"))
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    os.nice(int(os.environ.get("SENDGUARD_WORKER_NICE", "10")))
    import service.policy.rules  # noqa: F401 - import once, before the first task

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr   # nothing else may write into the reply channel
    write_frame(out, b'{"ready": true}')
    while (frame := read_frame(inp)) is not None:
        try:
            reply: dict[str, Any] = run_task(pickle.loads(frame))  # noqa: S301 - from our parent
        except MemoryError:
            reply = {"error": "memory"}
        except Exception as exc:   # the parent reports it; never a traceback with content
            reply = {"error": type(exc).__name__}
        write_frame(out, json.dumps(reply, ensure_ascii=False, default=str)
                    .encode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
