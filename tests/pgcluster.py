"""A PostgreSQL 15 primary and its streaming replica, started by the tests on spare ports under a
temporary folder (tests/e2e/test_read_replicas.py). The machine's own PostgreSQL is not touched.

The primary is made with initdb; the replica with `pg_basebackup -R` from it (a standby.signal
and primary_conninfo), so it replays the primary's WAL as it streams in. PostgreSQL refuses to run
as root, so as root the clusters run as the `postgres` user.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.processes import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# Speed over durability: the clusters live for one test session.
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"


def _run(*command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run(
        [*prefix, *map(str, command)], check=check, capture_output=True, text=True, timeout=120, **kwargs
    )


class Cluster:
    def __init__(self, datadir: Path, port: int):
        self.datadir, self.port = datadir, port

    def start(self, socket_dir: Path) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {socket_dir} {FAST}"
        result = _run(
            PG_BIN / "pg_ctl", "-D", self.datadir, "-o", options, "-l", self.datadir / "log", "-w", "start", check=False
        )
        if result.returncode:
            log = (self.datadir / "log").read_text() if (self.datadir / "log").exists() else ""
            raise RuntimeError(f"PostgreSQL on {self.port} did not start: {result.stderr}\n{log[-2000:]}")

    def stop(self) -> None:
        _run(PG_BIN / "pg_ctl", "-D", self.datadir, "-m", "immediate", "-w", "stop", check=False)

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)


class StreamingPair:
    """start(load=…) makes the primary, runs load(primary) to fill it, then makes and starts the
    replica; pause()/resume() stop and restart the replica's replay (its lag)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="hub-replica-"))
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self.primary = Cluster(self.root / "primary", free_port())
        self.replica = Cluster(self.root / "replica", free_port())

    def start(self, load=None) -> "StreamingPair":
        _run(
            PG_BIN / "initdb",
            "-D",
            self.primary.datadir,
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        self.primary.start(self.root)
        if load is not None:
            load(self.primary)
        _run(
            PG_BIN / "pg_basebackup",
            "-h",
            "127.0.0.1",
            "-p",
            self.primary.port,
            "-U",
            "postgres",
            "-D",
            self.replica.datadir,
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
        )
        self.replica.start(self.root)
        with self.replica.connect() as replica:
            assert replica.execute("SELECT pg_is_in_recovery()").fetchone()[0], "the replica is not a standby"
        return self

    def stop(self) -> None:
        self.replica.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def pause(self) -> None:
        with self.replica.connect() as replica:
            replica.execute("SELECT pg_wal_replay_pause()")
            self._wait(replica, "paused")

    def resume(self) -> None:
        with self.replica.connect() as replica:
            replica.execute("SELECT pg_wal_replay_resume()")
            self._wait(replica, "not paused")

    def caught_up(self, timeout: float = 10) -> None:
        """Waits until the replica has replayed everything the primary has written so far."""
        with self.primary.connect() as primary, self.replica.connect() as replica:
            target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            deadline = time.monotonic() + timeout
            while not replica.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]).fetchone()[0]:
                assert time.monotonic() < deadline, "the replica did not catch up"
                time.sleep(0.02)

    @staticmethod
    def _wait(replica, state: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != state:
            assert time.monotonic() < deadline, f"the replica's replay never became {state}"
            time.sleep(0.02)


def copy_database(source: dict, target: Cluster, dbname: str) -> None:
    """Copies a database (Django settings dict of the source) into `dbname` on `target`."""
    with target.connect() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"')
    env = {**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""}
    dump = subprocess.run(
        [
            PG_BIN / "pg_dump",
            "-h",
            source["HOST"] or "127.0.0.1",
            "-p",
            str(source["PORT"] or 5432),
            "-U",
            source["USER"] or "postgres",
            "--no-owner",
            "--no-privileges",
            source["NAME"],
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=env,
    )
    subprocess.run(
        [
            PG_BIN / "psql",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(target.port),
            "-U",
            "postgres",
            "-d",
            dbname,
        ],
        input=dump.stdout,
        check=True,
        capture_output=True,
        timeout=120,
    )
