"""What every benchmark shares: reporting, statistics, and the benchmark database."""

import http.client
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def report(name: str, value: float, unit: str, digits: int = 1) -> None:
    """The one line `make bench` consumers parse: `BENCH <name> <value> <unit>`."""
    print(f"BENCH {name} {value:.{digits}f} {unit}", flush=True)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stop(process: subprocess.Popen, timeout: float = 15) -> None:
    """Ends a server the benchmark started: SIGTERM, then SIGKILL after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(port: int, host: str, path: str, headers=None) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


def asgi_command(port: int) -> list[str]:
    """The web server's command from the Dockerfile's CMD (uvicorn and its flags), on 127.0.0.1:`port`."""
    text = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())
    command = json.loads(re.search(r"^CMD (\[.*\])$", text, re.MULTILINE).group(1))
    command[0] = str(Path(sys.executable).parent / command[0])
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    return command


@contextmanager
def asgi_server(settings_module: str, *, workers: int, ready_host: str, ready_path: str, env=None):
    """The ASGI server as the Dockerfile runs it, with `workers` processes (WEB_CONCURRENCY, as there)
    and `settings_module`; yields (process, port) once `ready_path` on `ready_host` answers."""
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings_module, "WEB_CONCURRENCY": str(workers), **(env or {})}
    # Its access log (on, as deployed) goes to stdout: dropped here.
    proc = subprocess.Popen(asgi_command(port), env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn ({settings_module}) exited with {proc.returncode}")
            try:
                http_get(port, ready_host, ready_path)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn ({settings_module}) did not answer in 60 s") from None
                time.sleep(0.2)
        yield proc, port
    finally:
        stop(proc)


@contextmanager
def fresh_tenant(slug: str, name: str, plan: str = "enterprise"):
    """A new tenant `slug` (one an interrupted run left behind is deleted first), deleted at the end."""
    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_create, tenant_delete

    old = Tenant.objects.filter(slug=slug).first()
    if old is not None:
        tenant_delete(tenant=old)
    tenant = tenant_create(name=name, slug=slug, plan=plan)
    try:
        yield tenant
    finally:
        tenant_delete(tenant=tenant)


def median(values):
    return statistics.median(values)


def percentile(values, p: float):
    """Nearest-rank percentile (with few samples, p95 is the largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def prepare_database() -> None:
    """Creates the benchmark database if missing, sets Django up and migrates every schema."""
    import django
    import psycopg
    from django.conf import settings
    from psycopg import sql

    db = settings.DATABASES["default"]
    params = {"host": db.get("HOST"), "port": db.get("PORT"), "user": db.get("USER"), "password": db.get("PASSWORD")}
    with psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v}) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is None:
            log(f"creating database {db['NAME']}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))

    django.setup()
    from django.core.management import call_command

    call_command("migrate_schemas", interactive=False, verbosity=0, stdout=sys.stderr)

    # The benchmark's Redis databases are its own: drop queued tasks and cache entries that an
    # interrupted run (or a test run using the same databases) left behind.
    import redis

    from config.settings.base import redis_url_for

    for number in {settings.REDIS_DB_CACHE, settings.REDIS_DB_CELERY, settings.REDIS_DB_CHANNELS}:
        redis.Redis.from_url(redis_url_for("redis", number)).flushdb()
