"""What every benchmark shares: reporting, statistics, and the benchmark database."""

import math
import statistics
import subprocess
import sys


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
