"""The edges of the per-process database connection pool (DATABASE_POOL_* settings): how to tell
that a request waited too long for a connection, and how to close connections and pool at once
(before forking, or before the database's name changes)."""


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
