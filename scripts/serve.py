#!/usr/bin/env python
"""Run the development stack: ASGI server, Celery worker and Celery beat.

    .venv/bin/python scripts/serve.py        # PORT=8000 by default

Each child's output is prefixed with its name. Ctrl-C or SIGTERM stops all of them
(SIGTERM, then SIGKILL after STOP_TIMEOUT seconds). If one child exits, the others
are stopped and this script exits non-zero.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's bin/
STOP_TIMEOUT = 10

COMMANDS = {
    "web": [BIN / "uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", os.environ.get("PORT", "8000")],
    "worker": [BIN / "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
    "beat": [BIN / "celery", "-A", "config", "beat", "-l", "info", "--schedule", ".data/celerybeat-schedule"],
}
WIDTH = max(map(len, COMMANDS))
print_lock = threading.Lock()
LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None
PR_SET_PDEATHSIG = 1


def say(name, line):
    with print_lock:
        try:
            sys.stdout.write(f"{name:<{WIDTH}} | {line}")
            sys.stdout.flush()
        except OSError:  # e.g. `make run | tee log` and tee died first: keep going, quietly
            pass


def die_with_parent():
    """In the child: get SIGTERM if serve.py dies, even by SIGKILL (Linux only)."""
    if LIBC:
        LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def pump(name, stream):
    for line in iter(stream.readline, ""):
        say(name, line)


def start(cmd):
    return subprocess.Popen(
        [str(c) for c in cmd],
        cwd=ROOT,
        text=True,
        bufsize=1,
        errors="replace",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        process_group=0,  # the terminal's Ctrl-C reaches only us; we stop the children
        preexec_fn=die_with_parent,  # noqa: PLW1509 (no threads exist yet, see main)
    )


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def stop_all(procs):
    for name, proc in procs.items():
        if proc.poll() is None:
            say("serve", f"stopping {name}\n")
            proc.terminate()
    for name, proc in procs.items():
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            say("serve", f"{name} did not stop in {STOP_TIMEOUT}s, killing it\n")
        kill_group(proc)  # also leftovers such as Celery pool processes
        proc.wait()


def main():
    (ROOT / ".data").mkdir(exist_ok=True)
    # Web, worker and beat write their Prometheus samples here, so the web server's /metrics
    # shows the worker's tasks too (prometheus_client's multiprocess mode); emptied at each start.
    metrics_dir = ROOT / ".data" / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir()
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(metrics_dir))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    # Start every child before any thread: preexec_fn is only safe without threads.
    procs = {name: start(cmd) for name, cmd in COMMANDS.items()}
    pumps = [threading.Thread(target=pump, args=(name, proc.stdout), daemon=True) for name, proc in procs.items()]
    for thread in pumps:
        thread.start()
    failed = None
    try:
        while not stop.wait(0.2):
            failed = next((name for name, proc in procs.items() if proc.poll() is not None), None)
            if failed:
                code = procs[failed].returncode
                say("serve", f"{failed} exited with code {code}; stopping the others\n")
                break
    finally:
        stop_all(procs)
        for thread in pumps:
            thread.join(2)  # print what the children said last
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
