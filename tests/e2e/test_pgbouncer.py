"""The platform behind a real PgBouncer in session pooling mode: tenants never see each other's rows.

django-tenants keeps the tenant in the session's search_path (one `SET search_path` when a
connection first enters a schema). Session pooling gives a client the same server connection
until it disconnects, then resets it (server_reset_query = DISCARD ALL) before the next client
gets it: safe. Transaction pooling hands each transaction to any server connection, so the
`SET` and the queries after it can land on different ones: unsafe. Both are shown here.
"""

import os
import pwd
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import subprocess_env
from tests.e2e import probes
from tests.e2e.probe_urls import MARKER
from tests.processes import free_port, running, uvicorn

# django_db: the test database must exist (and each test reads inside a transaction); what the
# server processes must see is committed by the module fixtures (tests/e2e/conftest.py).
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]
PGBOUNCER = "/usr/sbin/pgbouncer"
ROOT = Path(settings.BASE_DIR)
REQUESTS = 200


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def pgbouncer(*, pool_mode: str, pool_size: int):
    """A PgBouncer on a free port in front of the test database's server; yields the port."""
    if not os.path.exists(PGBOUNCER):  # `make test` installs it or stops before pytest
        pytest.fail(f"{PGBOUNCER} is missing: apt-get install -y pgbouncer")
    db = connection.settings_dict
    host = db["HOST"] or "/var/run/postgresql"  # a path is a unix socket folder (the embedded pgserver)
    server = f"host={host} port={db['PORT'] or 5432}" + (f" password={db['PASSWORD']}" if db["PASSWORD"] else "")
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="hub-pgbouncer-"))
    workdir.chmod(0o755)  # PgBouncer refuses to run as root; the user it switches to reads the files.
    (workdir / "users.txt").write_text(f'"{db["USER"]}" ""\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = {server}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
admin_users = {db["USER"]}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_client_conn = 200
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
"""
    )
    for name in ("users.txt", "pgbouncer.ini"):
        (workdir / name).chmod(0o644)
    run_as = ["-u", _unprivileged_user(host)] if os.geteuid() == 0 else []
    command = [PGBOUNCER, *run_as, workdir / "pgbouncer.ini"]
    try:
        with running(command, env=os.environ, ready=lambda: _listening(port), what="PgBouncer", timeout=15):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _unprivileged_user(host: str) -> str:
    """Who PgBouncer runs as when the tests run as root: the owner of the server's socket folder
    (it can reach the socket), else postgres, else nobody."""
    if host.startswith("/") and os.path.isdir(host):
        owner = pwd.getpwuid(os.stat(host).st_uid).pw_name
        if owner != "root":
            return owner
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "nobody"
    return "postgres"


def _dsn(port: int) -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@127.0.0.1:{port}/{db['NAME']}"


@contextmanager
def hub_behind(port: int):
    """uvicorn (3 worker processes) whose every request opens a new connection to PgBouncer (no
    pool of its own: the setting recommended behind PgBouncer)."""
    web_port = free_port()
    db = connection.settings_dict
    env = subprocess_env(
        DJANGO_SETTINGS_MODULE="tests.e2e.probe_settings",
        DATABASE_URL=f"postgres://{db['USER']}@127.0.0.1:{port}/{db['NAME']}",
        DATABASE_POOL_MAX_SIZE="0",
        HUB_BASE_DOMAIN=f"localhost:{web_port}",
        DJANGO_ALLOWED_HOSTS="localhost,.localhost",
    )
    with uvicorn(web_port, env, "--workers", "3", "--no-access-log", timeout=60):
        yield web_port


def interleaved_traffic(pool_mode: str, sessions) -> list[tuple[str, str, int, str]]:
    """REQUESTS requests, alpha's and beta's shuffled, 8 at a time, through PgBouncer (2 server
    connections); returns (slug, page, status, body). Under transaction pooling a request may also
    get no answer at all (status 0): its transaction's statements wait on server connections that
    other clients hold."""
    with pgbouncer(pool_mode=pool_mode, pool_size=2) as port, hub_behind(port) as web_port:
        return probes.interleaved_traffic(
            web_port, sessions, REQUESTS, at_once=8, unanswered_ok=pool_mode == "transaction"
        )


def test_session_pooling_keeps_tenants_apart_on_shared_server_connections(sessions):
    results = interleaved_traffic("session", sessions)

    assert len(results) == REQUESTS
    pids = probes.served_by(results, sessions)
    # Two server connections served both tenants, back and forth.
    assert len(pids["alpha"] | pids["beta"]) <= 2
    assert pids["alpha"] & pids["beta"], "the tenants never shared a server connection: the test proves nothing"


def test_the_same_traffic_through_transaction_pooling_leaks(sessions):
    """The check above can fail: under transaction pooling a third or so of the probe requests run
    in the other tenant's schema (measured: 32–48 of 100 in five runs)."""
    results = interleaved_traffic("transaction", sessions)
    probed = [r for r in results if r[1] == probes.PROBE and r[2] == 200]
    assert len(probed) > REQUESTS // 4
    assert any("ran in t_" in sight for sight in probes.cross_tenant_sights(probed, sessions))


def test_session_pooling_resets_a_server_connection_before_the_next_client(markers):
    """What django-tenants does on a connection, done by hand: SET search_path, then query."""
    alpha, beta = markers["alpha"], markers["beta"]
    with pgbouncer(pool_mode="session", pool_size=2) as port:
        first = [psycopg.connect(_dsn(port), autocommit=True) for _ in range(2)]
        for conn, tenant in zip(first, (alpha, beta), strict=True):
            conn.execute(f"SET search_path = {tenant.schema_name}, public")
        for conn, tenant in zip(first, (alpha, beta), strict=True):
            assert conn.execute("SELECT current_schema()").fetchone()[0] == tenant.schema_name
            rows = conn.execute("SELECT object_repr FROM auditlog_logentry WHERE object_repr LIKE 'pgbouncer-marker-%'")
            assert [r[0] for r in rows] == [MARKER + tenant.slug]
        used = {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for conn in first}
        for conn in first:
            conn.close()

        second = [psycopg.connect(_dsn(port), autocommit=True) for _ in range(2)]
        # The same two server connections, each reset by DISCARD ALL: no tenant's search_path left.
        assert {conn.execute("SELECT pg_backend_pid()").fetchone()[0] for conn in second} == used
        for conn in second:
            assert conn.execute("SELECT current_schema()").fetchone()[0] == "public"
            conn.close()


def test_transaction_pooling_would_mix_tenants(markers):
    """Why transaction pooling is not supported: a tenant's next query runs in another's schema."""
    alpha, beta = markers["alpha"], markers["beta"]
    with pgbouncer(pool_mode="transaction", pool_size=1) as port:
        a, b = (psycopg.connect(_dsn(port), autocommit=True) for _ in range(2))
        a.execute(f"SET search_path = {alpha.schema_name}, public")
        b.execute(f"SET search_path = {beta.schema_name}, public")
        assert a.execute("SELECT current_schema()").fetchone()[0] == beta.schema_name
        rows = a.execute("SELECT object_repr FROM auditlog_logentry WHERE object_repr LIKE 'pgbouncer-marker-%'")
        assert [r[0] for r in rows] == [MARKER + "beta"]  # alpha's request reads beta's rows
        a.close()
        b.close()
