"""The edges of the per-process database connection pool (DATABASE_POOL_* settings): what a
connection forgets when it goes back, how to tell that a request waited too long for one, and how
to close connections and pool at once (before forking, or before the database's name changes).

Imported by the settings module, so nothing here imports Django's machinery at import time.
"""


def reset_pooled_connection(conn) -> None:
    """psycopg_pool's `reset` callback, run on every connection given back to the pool.

    django-tenants issues `SET search_path` on the first query after a connection is taken (its
    wrapper forgets the schema it set whenever it gives a connection back), so a request never runs
    in the schema the previous holder left. Resetting here as well means nothing can inherit it:
    a connection waits in the pool, and starts its next request, in the public schema.
    """
    if not conn.autocommit:  # given back inside a transaction: the pool has rolled it back
        conn.autocommit = True
    conn.execute("RESET search_path")


def waited_for_pool(exc: BaseException | None) -> bool:
    """Whether `exc` (or an error it was raised from) is the pool's "no connection free in time"."""
    from psycopg_pool import PoolTimeout

    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, PoolTimeout):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def close_connections_and_pools() -> None:
    """Closes this process's connections and its pool. Before forking workers: a child must not use
    a socket its parent uses, nor a pool whose threads did not survive the fork. And before the
    database's name changes (tests): a pool keeps the parameters it was made with."""
    from django.db import connections

    connections.close_all()
    for conn in connections.all(initialized_only=True):
        if hasattr(conn, "close_pool"):
            conn.close_pool()
