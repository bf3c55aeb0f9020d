"""The production server (service/server.py: granian, as ``sendguard serve`` and the image
run it), each property the gunicorn configuration gave, checked on the real server:
SIGTERM lets in-flight requests finish within Cloud Run's 10 s and stops new ones; a
request still running at the graceful timeout is cut and the process exits in time; a
worker that stops answering for the request timeout is killed and replaced; JSON lines
through ``service.logs``, no access log, no link token in the output; content analysis
runs in the pool of a server worker; ``$PORT`` and the worker settings from the
environment (the gunicorn-era names still read), bad values refused before listening."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.errors import ConfigError
from service.server import Orphans, ServerSettings, parent_of
from tests.support import hostile as h

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "c2VjcmV0LWxpbmstdG9rZW4"      # a link token as the key page's URLs carry it
CSV = "\n".join(",".join(map(str, r)) for r in h.customer_rows(40)).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def get(url: str, data: bytes | None = None, timeout: float = 2) -> str | None:
    try:
        with urllib.request.urlopen(url, data=data, timeout=timeout) as resp:
            return str(resp.read().decode())
    except (OSError, http.client.HTTPException):   # refused, reset, cut mid-answer
        return None


def children(pid: int) -> list[int]:
    return [int(e.name) for e in Path("/proc").iterdir()
            if e.name.isdigit() and parent_of(int(e.name)) == pid]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Running:
    """``python -m service.server slow_app:create`` with its output in a file."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.out = tmp / "server.log"
        full = {**os.environ, "PORT": str(self.port), "SENDGUARD_ENV": "production",
                "GOOGLE_CLOUD_PROJECT": "sample-proj", "HOST": "127.0.0.1",
                "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)]),
                **env}
        with open(self.out, "w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service.server", "slow_app:create"],
                stdout=out, stderr=subprocess.STDOUT, env=full, cwd=tmp,
                start_new_session=True)
        assert wait_for(lambda: get(self.base + "/fast") == "ok", 30), self.text()

    def text(self) -> str:
        return self.out.read_text()

    def entries(self) -> list[dict[str, str]]:
        return [json.loads(line) for line in self.text().splitlines() if line.strip()]

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        """SIGTERM (the server removes its heartbeat directory), then the whole process
        group: workers too, even when the main process is gone."""
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(**env: str) -> Running:
        started.append(Running(tmp_path, **env))
        return started[-1]
    yield start
    for r in started:
        r.stop()


def test_sigterm_finishes_in_flight_requests_logs_json_and_no_urls(
        running: Callable[..., Running]) -> None:
    server = running(SENDGUARD_HTTP_WORKERS="2", SENDGUARD_HTTP_THREADS="4")
    assert len(server.workers()) == 2
    # an attachment check on a server worker runs in that worker's analysis pool
    # (the first check starts the pool's process: seconds on a loaded machine)
    answer = get(server.base + "/check", h.with_attachment("list.csv", "text/csv", CSV), 60)
    assert answer is not None, server.text()
    reply = json.loads(answer)
    assert reply["heavy"] and "personal_data" in reply["codes"], reply
    assert reply["pid"] in server.workers()
    pool = [p for p in children(reply["pid"]) if "service.policy.worker" in cmdline(p)]
    assert len(pool) == 1, "the analysis ran in a child of the server worker"
    assert get(f"{server.base}/k/{TOKEN}?code=12345678") is None   # 404: nothing logs it

    slow: dict[str, str] = {}

    def slow_request() -> None:
        req = urllib.request.Request(server.base + "/slow", headers={
            "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            slow["body"] = resp.read().decode()

    client = threading.Thread(target=slow_request)
    client.start()
    assert wait_for(lambda: "send started" in server.text(), 10)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: get(server.base + "/fast") is None, 5), "still accepting new work"
    client.join(timeout=20)
    assert slow.get("body") == "sent", "the in-flight request was cut off"
    assert server.proc.wait(timeout=15) == 0
    assert time.monotonic() - signalled < 10, "Cloud Run kills the container after 10 s"

    entries = server.entries()                       # every line is JSON
    messages = [e["message"] for e in entries]
    assert "send finished" in messages
    started = next(e for e in entries if e["message"].startswith("send started"))
    assert started["message"] == "send started, code [redacted] for /k/[redacted]"
    assert started["logging.googleapis.com/trace"] == (
        "projects/sample-proj/traces/105445aa7843bc8bf206b12000100000")
    granian = [e["message"] for e in entries if e["logger"].startswith("_granian")]
    assert "Shutting down granian" in granian, messages     # the server's own lines too
    text = server.text()
    assert TOKEN not in text and "12345678" not in text
    # Judged on the messages, not the raw text: source paths in the log (the checkout
    # may live under /check/...) are not requests.
    requested = ("GET /", "POST /", "/check", "/fast", "/k/")
    access = [m for m in messages if any(r in m for r in requested)
              and m != started["message"]]
    assert not access, f"no access log: key-page URLs carry tokens: {access}"
    assert not [e for e in entries if "access" in e["logger"]], messages
    assert "GET /" not in text and "POST /" not in text, "no request line anywhere"


def test_a_request_past_the_graceful_timeout_is_cut_and_the_server_exits_in_time(
        running: Callable[..., Running]) -> None:
    server = running(SENDGUARD_HTTP_WORKERS="1", SENDGUARD_GRACEFUL_TIMEOUT="2",
                     SLOW_SECONDS="60")
    # a client that keeps waiting (one that gives up first lets the worker go at once)
    threading.Thread(target=get, args=(server.base + "/slow", None, 30), daemon=True).start()
    assert wait_for(lambda: "send started" in server.text(), 10)
    signalled = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)
    server.proc.wait(timeout=15)
    assert 1.5 < time.monotonic() - signalled < 8      # within Cloud Run's 10 s
    assert "refused to gracefully stop" in server.text()
    assert "send finished" not in server.text()


def test_a_worker_that_stops_answering_is_killed_and_replaced(
        running: Callable[..., Running]) -> None:
    server = running(SENDGUARD_HTTP_WORKERS="1", SENDGUARD_REQUEST_TIMEOUT="2")
    [stuck] = server.workers()
    assert get(server.base + "/pid") == str(stuck)
    os.kill(stuck, signal.SIGSTOP)      # holds no lock, answers nothing: as a wedged worker
    assert wait_for(lambda: get(server.base + "/pid") not in (None, str(stuck)), 20), (
        server.text())
    assert stuck not in server.workers()
    assert server.proc.poll() is None, "the server carries on with a new worker"
    assert any(e["logger"] == "service.server" and f"worker {stuck} did not answer"
               in e["message"] for e in server.entries())


def test_a_killed_workers_analysis_processes_are_reaped(
        running: Callable[..., Running]) -> None:
    """Gunicorn's arbiter reaped them; granian waits only for its own workers."""
    server = running(SENDGUARD_HTTP_WORKERS="1", SENDGUARD_REQUEST_TIMEOUT="2")
    [worker] = server.workers()
    answer = get(server.base + "/check", h.with_attachment("list.csv", "text/csv", CSV), 60)
    assert answer is not None and json.loads(answer)["heavy"], server.text()
    pool = [p for p in children(worker) if "service.policy.worker" in cmdline(p)]
    assert len(pool) == 1
    time.sleep(3)                       # the watchdog has seen it (it looks every 0.5 s)
    os.kill(worker, signal.SIGKILL)
    assert wait_for(lambda: not Path(f"/proc/{pool[0]}").exists(), 20), (
        f"left as a zombie: {Path(f'/proc/{pool[0]}/stat').read_text()}")
    assert wait_for(lambda: get(server.base + "/pid") not in (None, str(worker)), 20), (
        server.text())
    assert server.proc.poll() is None, "the server carries on with a new worker"


def test_orphans_come_to_the_server_outside_the_image_too() -> None:
    """In the image the server is PID 1; elsewhere ``become_subreaper`` makes it their
    parent, so that ``Orphans`` can reap them."""
    code = textwrap.dedent("""
        import os, subprocess, sys, time
        from service.server import become_subreaper, parent_of
        assert become_subreaper()
        child = subprocess.Popen([sys.executable, "-c",
            "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
            "'import time; time.sleep(5)']); print(p.pid, flush=True)"],
            stdout=subprocess.PIPE, text=True)
        grandchild = int(child.stdout.readline())
        child.wait()
        deadline = time.monotonic() + 5
        while parent_of(grandchild) != os.getpid() and time.monotonic() < deadline:
            time.sleep(0.05)
        print(parent_of(grandchild) == os.getpid())
        os.kill(grandchild, 9)
        os.waitpid(grandchild, 0)
        """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, check=True).stdout
    assert out.strip() == "True"


def test_zombies_never_seen_as_a_workers_child_are_left_to_their_parent() -> None:
    """Reaping them would take the exit status of granian's own workers from it."""
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])
    assert wait_for(lambda: (parent_of(proc.pid), Path(f"/proc/{proc.pid}").exists())
                    == (None, True), 20)                   # a zombie child of ours
    assert Orphans(os.getpid()).reap(workers=set()) == []
    assert proc.wait(5) == 7, "its exit status is still there for its parent"


def test_workers_stop_when_the_main_process_is_killed(
        running: Callable[..., Running]) -> None:
    server = running(SENDGUARD_HTTP_WORKERS="2", SENDGUARD_REQUEST_TIMEOUT="2")
    workers = server.workers()
    assert len(workers) == 2
    server.proc.kill()                     # SIGKILL: no chance to stop its workers
    server.proc.wait()
    assert wait_for(lambda: not any(cmdline(w) for w in workers), 30), (   # gone or zombie
        [cmdline(w) for w in workers], server.text())
    assert "main process is gone" in server.text()
    beats = [d for base in ("/dev/shm", tempfile.gettempdir())
             for d in Path(base).glob("sendguard-heartbeat-*")
             if any((d / str(w)).exists() for w in workers)]
    assert beats == [], "the workers cleared the heartbeat directory"


def test_an_orphaned_worker_exits_after_the_graceful_timeout_even_mid_request(
        running: Callable[..., Running]) -> None:
    """Nobody is left to kill it at the graceful timeout: it does so itself."""
    server = running(SENDGUARD_HTTP_WORKERS="1", SENDGUARD_REQUEST_TIMEOUT="2",
                     SENDGUARD_GRACEFUL_TIMEOUT="1", SLOW_SECONDS="60")
    [worker] = server.workers()
    threading.Thread(target=get, args=(server.base + "/slow", None, 70), daemon=True).start()
    assert wait_for(lambda: "send started" in server.text(), 10)
    server.proc.kill()
    server.proc.wait()
    killed = time.monotonic()
    assert wait_for(lambda: not cmdline(worker), 30), server.text()
    assert time.monotonic() - killed < 12, "grace 1 s + 2 s, not the request's 60 s"
    assert "send finished" not in server.text()


def test_a_worker_that_cannot_build_the_app_stops_the_server(tmp_path: Path) -> None:
    out = tmp_path / "server.log"
    env = {**os.environ, "PORT": str(free_port()), "HOST": "127.0.0.1", "FAIL_TO_START": "1",
           "SENDGUARD_ENV": "production", "SENDGUARD_HTTP_WORKERS": "1",
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), str(ROOT)])}
    with open(out, "w") as f:
        proc = subprocess.run([sys.executable, "-m", "service.server", "slow_app:create"],
                              stdout=f, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
                              timeout=60, check=False)
    assert proc.returncode == 1          # not serving, and Cloud Run sees the failure
    entries = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    failed = [e for e in entries if e["message"].startswith("a worker could not start")]
    assert failed and "RuntimeError: cannot reach" in failed[0]["message"]
    assert "hunter2-secret" not in out.read_text()      # redacted like every line


def test_sendguard_serve_binds_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGUARD_", "GUNICORN_"))}
    env.update(PORT=str(port), HOST="127.0.0.1", GUNICORN_WORKERS="1",
               SENDGUARD_VAR_DIR=str(tmp_path / "var"))
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        assert wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz") is not None, 30)
        assert len(children(proc.pid)) == 1, "GUNICORN_WORKERS (the old name) is still read"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)     # workers too, had the test failed
        proc.wait()
    assert proc.returncode == 0, out
    assert f"Listening at: http://127.0.0.1:{port}" in out


def test_a_respawned_worker_runs_the_policy_checked_at_start(tmp_path: Path) -> None:
    """The policy file broken after start (an admin mid-edit) does not reach a worker
    that granian starts later: it gets the policy ``serve`` read and validated."""
    port = free_port()
    policy = tmp_path / "policy.toml"
    policy.write_text('[organization]\ninternal_domains = ["example.co.jp"]\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGUARD_", "GUNICORN_"))}
    env.update(PORT=str(port), HOST="127.0.0.1", SENDGUARD_HTTP_WORKERS="1",
               SENDGUARD_VAR_DIR=str(tmp_path / "var"), SENDGUARD_POLICY=str(policy))
    proc = subprocess.Popen([sys.executable, "-m", "service", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        assert wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz") is not None, 30)
        [worker] = children(proc.pid)
        policy.write_text("[organization\ninternal_domains = \n")      # mid-edit: broken
        os.kill(worker, signal.SIGKILL)
        assert wait_for(lambda: children(proc.pid) not in ([], [worker]), 30)
        assert wait_for(lambda: get(f"http://127.0.0.1:{port}/healthz") is not None, 30)
        assert proc.poll() is None, "the server carries on"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert "could not start the app" not in out, out


@pytest.mark.parametrize(("env", "given", "expected"), [
    pytest.param({}, {}, ServerSettings(), id="defaults"),
    pytest.param({"PORT": "9000", "HOST": "127.0.0.1"}, {},
                 ServerSettings(host="127.0.0.1", port=9000), id="port-from-env"),
    pytest.param({"SENDGUARD_HTTP_WORKERS": "1", "SENDGUARD_HTTP_THREADS": "16"}, {},
                 ServerSettings(workers=1, threads=16), id="sizing"),
    pytest.param({"GUNICORN_WORKERS": "3", "GUNICORN_THREADS": "8",
                  "GUNICORN_GRACEFUL_TIMEOUT": "5"}, {},
                 ServerSettings(workers=3, threads=8, graceful_timeout=5),
                 id="gunicorn-era-names"),
    pytest.param({"SENDGUARD_HTTP_WORKERS": "2", "GUNICORN_WORKERS": "5"}, {},
                 ServerSettings(workers=2), id="new-name-wins"),
    pytest.param({"SENDGUARD_REQUEST_TIMEOUT": "300", "SENDGUARD_GRACEFUL_TIMEOUT": "3"}, {},
                 ServerSettings(request_timeout=300, graceful_timeout=3), id="timeouts"),
    pytest.param({"PORT": "9000", "SENDGUARD_HTTP_THREADS": "4"},
                 {"port": 9100, "threads": None}, ServerSettings(port=9100, threads=4),
                 id="options-win"),
])
def test_settings_from_env(env: dict[str, str], given: dict[str, int | None],
                           expected: ServerSettings) -> None:
    assert ServerSettings.from_env(env, **given) == expected


@pytest.mark.parametrize(("name", "value"), [
    pytest.param("PORT", "http", id="port-word"),
    pytest.param("SENDGUARD_HTTP_WORKERS", "0", id="no-workers"),
    pytest.param("SENDGUARD_HTTP_THREADS", "-4", id="negative-threads"),
    pytest.param("GUNICORN_THREADS", "2.5", id="fraction-old-name"),
    pytest.param("SENDGUARD_REQUEST_TIMEOUT", "120s", id="timeout-unit"),
    pytest.param("SENDGUARD_GRACEFUL_TIMEOUT", "0", id="no-grace"),
])
def test_bad_settings_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        ServerSettings.from_env({name: value})


def test_sendguard_serve_refuses_a_bad_setting_before_listening(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDGUARD_", "GUNICORN_"))}
    proc = subprocess.run([sys.executable, "-m", "service", "serve"], cwd=tmp_path,
                          env={**env, "SENDGUARD_HTTP_WORKERS": "two"}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "SENDGUARD_HTTP_WORKERS" in proc.stderr, proc.stderr


def test_graceful_timeout_fits_cloud_runs_ten_seconds() -> None:
    # granian's workers-kill-timeout is this; the main process exits right after
    assert ServerSettings().graceful_timeout + 1 < 10


def test_an_idle_keep_alive_connection_is_closed_after_five_seconds(
        running: Callable[..., Running]) -> None:
    server = running(SENDGUARD_HTTP_WORKERS="1")
    with socket.create_connection(("127.0.0.1", server.port), timeout=20) as conn:
        conn.sendall(b"GET /fast HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = b""
        while not answer.endswith(b"\r\n\r\nok"):
            chunk = conn.recv(4096)
            assert chunk, answer
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ")
        idle = time.monotonic()
        assert conn.recv(4096) == b"", "closed by the server"
        assert 4 < time.monotonic() - idle < 10     # gunicorn's keepalive was 5 s
