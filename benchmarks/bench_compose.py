"""CPU per request, p50/p99 of ``POST /addon/compose`` (recipients only) at 50 clients.

Targets (SPEC section 9, issue 12): p99 <= 100 ms at 50 concurrent clients on loopback and
<= 1 ms of server CPU per request. The service runs as the image runs it: ``sendguard
serve`` (granian, service/server.py; workers and threads from ``SENDGUARD_HTTP_WORKERS`` /
``SENDGUARD_HTTP_THREADS``, chosen with ``--sweep``: deploy/README.md). ``--server
gunicorn`` runs it under gunicorn gthread as the image did until issue 12
(``benchmarks/gunicorn_conf.py``), ``--compare`` both, alternating. Every request carries
real RS256 ID tokens (system and user) from a local issuer whose certificates the service
fetches from a loopback certificate server. Each event names ~20 recipients over six
external domains, so the card has a block, warnings and the domain summary.

Two workloads, both printed:
- ``repeat``: 50 users, each sending the same event again (the same tokens, the same
  recipients), as when the add-on is reopened or re-checked: the verified-token cache
  and the card memo answer. The issue's 2.0-2.7 ms was measured on this workload, and
  the targets apply to it.
- ``fresh``: every request new tokens and new recipients (as if Google minted a token per
  request and every card differed): nothing cached, the whole analysis every time.

Server CPU is read from /proc for the server's main process and its workers before and after a
run (user + system), divided by the answered requests: independent of the load generator,
which shares the two cores. The reference, in the same run: the same server and settings
around a bare WSGI callable (``benchmarks/bare_wsgi.py``) answering the repeated requests,
i.e. the server's own CPU per request, which no change to SendGuard can remove. The
clients are closed-loop keep-alive connections, each sending its next request as soon as
the previous answer came: ``wrk`` (Debian package, C,
one thread) when installed, so the generator takes little of the CPU it shares with the
server, else (or ``--load python``) an asyncio client with pre-encoded requests.

    .venv/bin/python benchmarks/bench_compose.py [--requests 3000] [--clients 50]
    .venv/bin/python benchmarks/bench_compose.py --sweep     # workers x threads table
    .venv/bin/python benchmarks/bench_compose.py --compare --rounds 3   # vs gunicorn
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from benchlib import result

from service.devtools.tokens import LocalIssuer, serve_certs
from service.server import ServerSettings, parent_of

AUDIENCE = "https://sendguard.bench.invalid/addon"
SERVICE_ACCOUNT = "service-000000000001@gcp-sa-gsuiteaddons.iam.gserviceaccount.com"
CLIENT_ID = "000000000001-bench.apps.googleusercontent.com"
DOMAINS = ("kiyose-np.or.jp", "hoikuen-himawari.jp", "gmail.com", "yahoo.co.jp",
           "docomo.ne.jp", "partner-shoji.co.jp")
TARGET_P99_MS = 100.0
TARGET_CPU_MS = 1.0
ROOT = Path(__file__).resolve().parents[1]
SWEEP = ((1, 1), (1, 4), (2, 1), (2, 2), (2, 4), (2, 8), (2, 20), (4, 2))
Result = dict[str, float]
Event = tuple[dict[str, str], dict[str, object]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def event(issuer: LocalIssuer, user: int, serial: int = 0
          ) -> tuple[dict[str, str], dict[str, object]]:
    """One user's event; another ``serial`` gives new tokens and new recipients."""
    email = f"user{user:02d}@example.co.jp"
    system = issuer.system_token(audience=AUDIENCE, service_account=SERVICE_ACCOUNT,
                                 jti=f"s{user}-{serial}")
    to = [f"m{user}-{serial}-{i}@{DOMAINS[i % len(DOMAINS)]}" for i in range(18)]
    body = {
        "commonEventObject": {"hostApp": "GMAIL", "platform": "WEB", "userLocale": "ja"},
        "authorizationEventObject": {
            "systemIdToken": system,
            "userIdToken": issuer.user_token(audience=CLIENT_ID, email=email,
                                             jti=f"u{user}-{serial}"),
            "userOAuthToken": "ya29.bench"},
        "gmail": {"toRecipients": to, "ccRecipients": ["kacho@example.co.jp"],
                  "bccRecipients": ["archive@example.co.jp"]},
    }
    return {"Authorization": f"Bearer {system}"}, body


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Until the server accepts connections (the bare reference has no /healthz)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def encode(port: int, headers: dict[str, str], body: dict[str, object]) -> bytes:
    """One keep-alive HTTP/1.1 request, encoded once: the load generator stays cheap."""
    data = json.dumps(body).encode("utf-8")
    head = (f"POST /addon/compose HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Authorization: {headers['Authorization']}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode("ascii") + data


async def _client(port: int, requests_: list[bytes], todo: list[int],
                  latencies: list[float]) -> int:
    """One client: a keep-alive connection, one request at a time; returns failures."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    failures = 0
    try:
        while todo:
            i = todo.pop()
            t0 = time.perf_counter()
            writer.write(requests_[i % len(requests_)])
            status = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            latencies.append((time.perf_counter() - t0) * 1000)
            if b" 200 " not in status or b"pushCard" not in body:
                failures += 1
    finally:
        writer.close()
    return failures


def run(port: int, total: int, clients: int, requests_: list[bytes]) -> tuple[list[float], int]:
    latencies: list[float] = []
    todo = list(range(total))

    async def clients_() -> int:
        results = await asyncio.gather(*(_client(port, requests_, todo, latencies)
                                         for _ in range(clients)))
        return sum(results)

    failures = asyncio.run(clients_())
    return latencies, failures


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


WRK_SCRIPT = """
local reqs = {%s}
local n = 0
request = function()
  n = n + 1
  return reqs[((n - 1) %% #reqs) + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %%d %%d %%f %%f %%f %%f %%f %%f\\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, latency.mean / 1e3))
end
"""


def _lua(text: str) -> str:
    assert "]==]" not in text
    return f"[==[{text}]==]"


def run_wrk(url: str, tmp: Path, events: list[Event], clients: int, seconds: float
            ) -> tuple[Result, int]:
    """The same requests from wrk (C, one thread): nearly all of the two cores go to the
    server, and its latency histogram gives the percentiles. Returns (stats, requests)."""
    reqs = ",\n".join(
        f'wrk.format("POST", "/addon/compose", {{["Content-Type"]="application/json", '
        f'["Authorization"]={_lua(h["Authorization"])}}}, {_lua(json.dumps(body))})'
        for h, body in events)
    script = tmp / "compose.lua"
    script.write_text(WRK_SCRIPT % reqs, encoding="utf-8")
    duration = f"-d{max(1, round(seconds))}s"
    out = subprocess.run(["wrk", "-t1", f"-c{clients}", duration, "--timeout", "5s",
                          "-s", str(script), url], capture_output=True, text=True, check=True,
                         timeout=seconds + 60).stdout
    found = next(x for x in out.splitlines() if x.startswith("WRK "))
    keys = ("count", "failures", "seconds", "p50", "p90", "p99", "max", "mean")
    stats = dict(zip(keys, map(float, found.split()[1:]), strict=True))
    stats["rate"] = stats["count"] / stats["seconds"]
    return stats, int(stats["count"])


def server_pids(master: int) -> list[int]:
    """The server's main process and its workers (children)."""
    return [master] + [int(e.name) for e in Path("/proc").iterdir()
                       if e.name.isdigit() and parent_of(int(e.name)) == master]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of the processes (utime, stime of /proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


class Server:
    """The service on loopback for one workers x threads, as the image runs it: ``sendguard
    serve`` (granian). ``kind="gunicorn"``: under gunicorn gthread with
    ``benchmarks/gunicorn_conf.py`` instead, the server the image ran until issue 12.
    ``bare``: the same server and settings around ``benchmarks/bare_wsgi.py``."""

    def __init__(self, tmp: Path, certs_url: str, workers: int, threads: int,
                 kind: str = "granian", bare: bool = False) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "SENDGUARD_ENV": "development", "SENDGUARD_VAR_DIR": str(tmp),
               "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
               "SENDGUARD_POLICY": str(tmp / "policy.toml"),
               "SENDGUARD_ADDON_AUDIENCE": AUDIENCE,
               "SENDGUARD_ADDON_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
               "SENDGUARD_OAUTH_CLIENT_ID": CLIENT_ID, "SENDGUARD_GOOGLE_CERTS_URL": certs_url,
               "SENDGUARD_BASE_URL": self.url, "PORT": str(self.port), "HOST": "127.0.0.1",
               "SENDGUARD_HTTP_WORKERS": str(workers), "SENDGUARD_HTTP_THREADS": str(threads)}
        if kind == "granian":
            command = ([sys.executable, "-m", "service.server", "benchmarks.bare_wsgi:create"]
                       if bare else [sys.executable, "-m", "service", "serve"])
        else:
            target = "benchmarks.bare_wsgi:app" if bare else "service.app:create_app()"
            command = [str(Path(sys.executable).with_name("gunicorn")),
                       "--config", str(ROOT / "benchmarks" / "gunicorn_conf.py"),
                       "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", target]
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        if bare:
            time.sleep(0.5)
            wait_port(self.port, self.proc)
        else:
            wait_ready(self.url, self.proc)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(server: Server, events: list[Event], total: int, clients: int,
            wrk_seconds: float | None, tmp: Path) -> Result:
    """One workload: wrk for ``wrk_seconds`` when given, else ``total`` asyncio requests."""
    pids = server_pids(server.proc.pid)
    cpu0 = cpu_seconds(pids)
    if wrk_seconds:
        r, count = run_wrk(server.url, tmp, events, clients, wrk_seconds)
    else:
        encoded = [encode(server.port, *e) for e in events]
        t0 = time.perf_counter()
        latencies, failures = run(server.port, total, clients, encoded)
        wall = time.perf_counter() - t0
        count = len(latencies)
        r = {"count": count, "failures": failures, "rate": count / wall,
             "p50": pct(latencies, 50), "p90": pct(latencies, 90),
             "p99": pct(latencies, 99), "max": max(latencies),
             "mean": statistics.fmean(latencies)}
    r["cpu_ms"] = (cpu_seconds(pids) - cpu0) * 1000 / max(1, count)
    return r


def line(name: str, r: Result) -> str:
    return (f"{name:6} p50 {r['p50']:6.1f}  p90 {r['p90']:6.1f}  p99 {r['p99']:6.1f}  max "
            f"{r['max']:6.1f} ms | {r['rate']:5.0f} req/s | server CPU {r['cpu_ms']:5.2f} "
            f"ms/request | failures {r['failures']:.0f}")


def one_config(issuer: LocalIssuer, certs_url: str, tmp: Path, workers: int, threads: int,
               args: argparse.Namespace, *, reference: bool = False,
               kind: str | None = None) -> dict[str, Result]:
    kind = kind or args.server
    server = Server(tmp, certs_url, workers, threads, kind)
    total, clients = args.requests, args.clients
    wrk = args.seconds if args.load == "wrk" else None
    try:
        repeat = [event(issuer, u) for u in range(50)]
        fresh = [event(issuer, i % 50, 1 + i) for i in range(total)]
        run(server.port, 400, clients, [encode(server.port, *e) for e in repeat])   # warm
        results = {"repeat": measure(server, repeat, total, clients, wrk, tmp)}
        # wrk repeats its list when it runs out: the fresh run is kept short enough for
        # the list to last at the rate just measured (it says so if the list wrapped).
        fresh_seconds = None if wrk is None else float(min(wrk, max(
            1, int(0.8 * total / max(1.0, results["repeat"]["rate"] / 2)))))
        results["fresh"] = measure(server, fresh, total, clients, fresh_seconds, tmp)
        results["fresh"]["wrapped"] = float(results["fresh"]["count"] > total)
    finally:
        server.stop()
    if reference:
        # The same server and settings around a bare WSGI callable, same requests: the
        # CPU per request that is the server's own (benchmarks/bare_wsgi.py).
        bare = Server(tmp, certs_url, workers, threads, kind, bare=True)
        try:
            run(bare.port, 400, clients, [encode(bare.port, *e) for e in repeat])
            results["reference"] = measure(bare, repeat, total, clients, wrk, tmp)
        finally:
            bare.stop()
    return results


def compare(issuer: LocalIssuer, certs_url: str, tmp: Path, workers: int, threads: int,
            args: argparse.Namespace, head: str) -> None:
    """granian (the image) and gunicorn (before issue 12), alternating round by round,
    each with its bare reference; per round and medians."""
    kinds = ("granian", "gunicorn")
    runs: dict[str, list[dict[str, Result]]] = {k: [] for k in kinds}
    print(f"/addon/compose, granian vs gunicorn {workers}x{threads}, {head}, "
          f"{args.rounds} rounds alternating", flush=True)
    for n in range(args.rounds):
        for kind in kinds:
            r = one_config(issuer, certs_url, tmp, workers, threads, args, reference=True,
                           kind=kind)
            runs[kind].append(r)
            print(f"round {n + 1} {kind:8} load {os.getloadavg()[0]:4.1f} | " + " | ".join(
                f"{name} p99 {r[name]['p99']:6.1f} ms CPU {r[name]['cpu_ms']:4.2f} ms"
                for name in ("repeat", "fresh", "reference")), flush=True)
    for kind in kinds:
        for name in ("repeat", "fresh", "reference"):
            med = {k: statistics.median(r[name][k] for r in runs[kind])
                   for k in runs[kind][0][name]}
            print(f"median {kind:8} " + line(name[:6], med), flush=True)


def _server_name(kind: str) -> str:
    return "granian (sendguard serve)" if kind == "granian" else "gunicorn gthread"


def sweep(issuer: LocalIssuer, certs_url: str, tmp: Path, args: argparse.Namespace,
          head: str) -> None:
    """Each pair once per round, rounds alternating (the machine's load drifts); medians."""
    pairs = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",")]
    print(f"/addon/compose sweep ({_server_name(args.server)} workers x threads), {head}, "
          f"median of {args.rounds} rounds", flush=True)
    runs: dict[tuple[int, ...], list[dict[str, Result]]] = {p: [] for p in pairs}
    for _ in range(args.rounds):
        for pair in pairs:
            runs[pair].append(one_config(issuer, certs_url, tmp, pair[0], pair[1], args))
    for (w, t), results in runs.items():
        for name in ("repeat", "fresh"):
            med = {k: statistics.median(r[name][k] for r in results) for k in results[0][name]}
            print(f"{w}x{t:<3} " + line(name, med), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="per workload")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None,
                        help="default: as the image (SENDGUARD_HTTP_WORKERS, service/server.py)")
    parser.add_argument("--threads", type=int, default=None,
                        help="default: as the image (SENDGUARD_HTTP_THREADS, service/server.py)")
    parser.add_argument("--sweep", action="store_true",
                        help="measure workers x threads pairs (--configs), --rounds times, "
                             "alternating, and print each pair's median")
    parser.add_argument("--configs", default=",".join(f"{w}x{t}" for w, t in SWEEP))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk (C, Debian package; default when installed)"
                             " or the asyncio client in this process")
    parser.add_argument("--seconds", type=float, default=6.0, help="wrk run length")
    parser.add_argument("--server", choices=("granian", "gunicorn"), default="granian",
                        help="granian: as the image runs it (sendguard serve); gunicorn: "
                             "gunicorn gthread as the image did until issue 12 (a test extra)")
    parser.add_argument("--compare", action="store_true",
                        help="granian and gunicorn alternating, --rounds times; medians")
    args = parser.parse_args()
    if ((args.server == "gunicorn" or args.compare)
            and not Path(sys.executable).with_name("gunicorn").exists()):
        parser.error("gunicorn is not installed in this environment (pip install -e .[test])")
    if args.load == "auto":
        args.load = "wrk" if shutil.which("wrk") else "python"
    defaults = ServerSettings.from_env({})
    workers = args.workers or defaults.workers
    threads = args.threads or defaults.threads

    issuer = LocalIssuer()
    certs_url, certs = serve_certs(issuer, max_age=3600)
    tmp = Path(tempfile.mkdtemp(prefix="sendguard-bench-"))
    (tmp / "policy.toml").write_text('[organization]\ninternal_domains = ["example.co.jp"]\n',
                                     encoding="utf-8")
    amount = (f"wrk {args.seconds:g} s" if args.load == "wrk"
              else f"asyncio client, {args.requests} requests")
    head = (f"{amount} a workload, {args.clients} clients, load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    try:
        if args.sweep:
            sweep(issuer, certs_url, tmp, args, head)
            return 0
        if args.compare:
            compare(issuer, certs_url, tmp, workers, threads, args, head)
            return 0
        r = one_config(issuer, certs_url, tmp, workers, threads, args, reference=True)
    finally:
        certs.stop()
    print(f"/addon/compose, {_server_name(args.server)} {workers}x{threads}, ~20 recipients, both "
          f"tokens verified, {head}")
    for name in ("repeat", "fresh"):
        print(line(name, r[name]))
    ref = r["reference"]
    print(line("server", ref) + "  <- the same server around a bare WSGI callable "
          "(benchmarks/bare_wsgi.py): its own share of the CPU")
    if r["fresh"].get("wrapped"):
        print("note: wrk ran out of fresh events and repeated some: raise --requests")
    rep, fresh = r["repeat"], r["fresh"]
    how = f"{args.server} {workers}x{threads}, {amount}"
    ok = result(f"/addon/compose p99 at {args.clients} clients", rep["p99"], TARGET_P99_MS,
                "ms", detail=f"p50 {rep['p50']:.1f} ms, {rep['rate']:.0f} req/s, {how}; "
                             f"fresh events p99 {fresh['p99']:.1f} ms")
    ok &= result("/addon/compose server CPU per request", rep["cpu_ms"], TARGET_CPU_MS, "ms",
                 reference="the same server around a bare WSGI callable",
                 detail=f"fresh events {fresh['cpu_ms']:.2f} ms; the server alone "
                        f"{ref['cpu_ms']:.2f} ms; {how}")
    ok &= result("/addon/compose failed requests", rep["failures"] + fresh["failures"], 0, "")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
