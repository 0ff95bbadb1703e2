"""db_connections_max: the most PostgreSQL connections one ASGI web process (uvicorn as the
Dockerfile runs it, one process) holds while 64 clients keep it busy for 30 s, against the bound
of its settings (DATABASE_POOL_MAX_SIZE).

wrk -t2 -c64 mixes anonymous requests to unknown hosts (each looks its host up in the database),
API reads (GET /api/v1/members/) and API writes (PATCH /api/v1/tenant/, which also publishes an
event), 2 : 1 : 1 (bench/db_connections.lua). A thread counts the server's connections in
pg_stat_activity (by their application_name) every 50 ms. Fails when the count passes the bound or
an answer is a 5xx other than 503 (a request that waited DATABASE_POOL_TIMEOUT for a connection,
which a machine busy with other work can cause: they are counted in the log).
"""

import os
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path

import psycopg

from bench.api import api_tenant
from bench.common import asgi_server, log, report

CLIENTS = 64
DURATION = os.environ.get("BENCH_DB_CONNECTIONS_DURATION", "30s")
LUA = Path(__file__).with_name("db_connections.lua")


def _watch(application_name: str, stop: threading.Event, peak: list) -> None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    with psycopg.connect(dbname=db["NAME"], autocommit=True, **{k: v for k, v in params.items() if v}) as conn:
        while not stop.wait(0.05):
            count = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [application_name]
            ).fetchone()[0]
            peak[0] = max(peak[0], count)


def db_connections_max():
    from django.conf import settings

    bound = settings.DATABASE_POOL_MAX_SIZE
    name = f"hub-bench-{uuid.uuid4().hex[:8]}"
    with api_tenant(scopes=("identity:read", "tenancy:write")) as (tenant, key):
        host = f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
        env = {"DATABASE_APPLICATION_NAME": name}
        with asgi_server("bench.settings_api", workers=1, ready_host=host, ready_path="/bench/ping/", env=env) as (
            _,
            port,
        ):
            stop, peak = threading.Event(), [0]
            watcher = threading.Thread(target=_watch, args=(name, stop, peak))
            watcher.start()
            try:
                started = time.monotonic()
                out = subprocess.run(
                    [
                        "wrk",
                        "-t2",
                        f"-c{CLIENTS}",
                        f"-d{DURATION}",
                        "--timeout",
                        "30s",
                        "-s",
                        str(LUA),
                        f"http://127.0.0.1:{port}/",
                    ],
                    env={
                        **os.environ,
                        "BENCH_BASE": settings.HUB_BASE_HOSTNAME,
                        "BENCH_API_HOST": host,
                        "BENCH_API_KEY": key,
                    },
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                elapsed = time.monotonic() - started
            finally:
                stop.set()
                watcher.join()
    statuses = {int(s): int(n) for s, n in re.findall(r"STATUS (\d+) (\d+)", out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    log(f"db_connections: {sum(statuses.values())} answers in {elapsed:.0f} s ({rps:.0f} req/s): {statuses}")
    log(f"db_connections: at most {peak[0]} connections at once; the bound (DATABASE_POOL_MAX_SIZE) is {bound}")
    report("db_connections_max", peak[0], "connections", 0)
    failures = {s: n for s, n in statuses.items() if s >= 500 and s != 503}
    if failures or re.search(r"timeout [1-9]", out):
        raise RuntimeError(f"db_connections: server errors or timeouts: {failures}\n{out}")
    if peak[0] > bound:
        raise RuntimeError(f"db_connections: {peak[0]} connections, more than the bound of {bound}")
