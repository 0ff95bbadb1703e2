"""Read replicas: which database alias serves a query (DATABASE_REPLICA_URLS; docs/operations/replicas-and-streams.md).

`ReplicaRouter` (first in DATABASE_ROUTERS) sends a read to a replica only when the code that runs
has said reads may go there, and never when that could show someone stale data of their own:

- a GET, HEAD or OPTIONS request (ReplicaMiddleware) or a function marked `@replica_reads` / a
  `with replica_reads():` block (selectors outside requests: tasks, commands) allow replica reads;
- everything else reads the primary: requests that change things (POST, PUT, PATCH, DELETE), code
  that did not ask, anything inside a transaction on the primary (`atomic`), and the rest of a
  request once it has written;
- a person (or API key) who changed something is *pinned* to the primary for
  HUB_DATABASE_REPLICA_PIN_SECONDS after each request that changed things (a Redis marker per
  user or key, and a cookie for anyone else), so they read their own writes however far the
  replicas lag.

django-tenants sets the tenant's schema on the primary connection only (`connection.set_tenant`).
Before a read goes to a replica, the router gives that replica's connection the primary
connection's tenant, so the replica's `search_path` follows (connections are per thread, like the
tenant). Without replicas configured every query goes to the primary, as before.
"""

import contextvars
import hashlib
import itertools
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

PIN_COOKIE = "hub_primary"
_PIN_KEY = "hub:replica:pin:{}"


@dataclass
class ReadState:
    """What the code running now allows: `replica` (may reads go to a replica), `wrote` (this unit
    of work has written: read the primary from now on), and the replica chosen for it."""

    replica: bool = False
    wrote: bool = False
    alias: str | None = None
    forbid: bool = field(default=False)  # a request that changes things: no block may allow replicas


_state: contextvars.ContextVar[ReadState | None] = contextvars.ContextVar("hub_read_state", default=None)
_round_robin = itertools.count()
_down_until: dict[str, float] = {}  # replica alias → monotonic time until which it is left out
logger = logging.getLogger(__name__)


def replica_aliases() -> list[str]:
    return list(getattr(settings, "HUB_DATABASE_REPLICAS", []))


def _choose(aliases: list[str]) -> str:
    return aliases[next(_round_robin) % len(aliases)]


def _follow_tenant(alias: str) -> None:
    """Gives the replica's connection the primary connection's tenant (its search_path follows on
    the next cursor). Only when it differs: set_tenant also empties the content-type cache."""
    primary, replica = connections[DEFAULT_DB_ALIAS], connections[alias]
    if not hasattr(replica, "set_tenant"):
        return
    tenant = getattr(primary, "tenant", None)
    if tenant is None:
        if replica.schema_name != "public":
            replica.set_schema_to_public()
        return
    if replica.schema_name != tenant.schema_name or getattr(replica, "include_public_schema", True) != getattr(
        primary, "include_public_schema", True
    ):
        replica.set_tenant(tenant, getattr(primary, "include_public_schema", True))


def read_alias() -> str | None:
    """The replica alias the next read may use, or None for the primary."""
    state = _state.get()
    if state is None or not state.replica or state.wrote or state.forbid:
        return None
    aliases = replica_aliases()
    if not aliases or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return None
    if state.alias not in aliases:
        state.alias = _choose_reachable(aliases)
        if state.alias is None:
            state.replica = False  # none answers: this unit of work reads the primary
            return None
    _follow_tenant(state.alias)
    return state.alias


def _choose_reachable(aliases: list[str]) -> str | None:
    """A replica that answers (its connection is opened, or taken from its pool, now); one that
    does not is left out for HUB_DATABASE_REPLICA_RETRY_SECONDS, so reads go to the others or to
    the primary instead of failing."""
    now = time.monotonic()
    for _ in range(len(aliases)):
        alias = _choose(aliases)
        if _down_until.get(alias, 0.0) > now:
            continue
        try:
            connections[alias].ensure_connection()
        except Exception as exc:  # noqa: BLE001 - refused, timed out, pool exhausted: all mean "not now"
            _down_until[alias] = now + settings.HUB_DATABASE_REPLICA_RETRY_SECONDS
            logger.warning("read replica %s does not answer (%s); reading the primary instead", alias, exc)
            continue
        return alias
    return None


class ReplicaRouter:
    """Reads to a replica where allowed (see the module), writes and migrations to the primary.
    Returns None where it has no opinion, so django-tenants' TenantSyncRouter still decides which
    apps migrate in which schema."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # replicas hold the primary's data

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return False if db in replica_aliases() else None


@contextmanager
def replica_reads():
    """Lets the reads in the block go to a replica (not inside a request that changes things, a
    transaction on the primary, or after a write in the same unit of work)."""
    outer = _state.get()
    if outer is not None and (outer.forbid or outer.replica):
        yield
        return
    token = _state.set(ReadState(replica=True))
    try:
        yield
    finally:
        _state.reset(token)


def replica_ok(function):
    """Marks a read-only selector whose reads may go to a replica (see replica_reads)."""

    @wraps(function)
    def wrapper(*args, **kwargs):
        with replica_reads():
            return function(*args, **kwargs)

    return wrapper


@contextmanager
def request_reads(*, safe: bool, pinned: bool):
    """The state of one request: replica reads for a safe request of someone not pinned."""
    token = _state.set(ReadState(replica=safe and not pinned, forbid=not safe or pinned))
    try:
        yield _state.get()
    finally:
        _state.reset(token)


# --- read-your-writes: pinning whoever changed something to the primary -------------------------


def pin_identity(request) -> str | None:
    """Whom a pin is for: the signed-in user, else the API key in the Authorization header."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    authorization = request.headers.get("Authorization", "")
    if authorization:
        return "key:" + hashlib.sha256(authorization.encode()).hexdigest()[:32]
    return None


def _redis():
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def is_pinned(identity: str | None) -> bool:
    if identity is None:
        return False
    try:
        return bool(_redis().exists(_PIN_KEY.format(identity)))
    except Exception:  # noqa: BLE001 - without Redis, read the primary: never stale
        return True


def pin(identity: str | None, seconds: float) -> None:
    if identity is None:
        return
    try:
        _redis().set(_PIN_KEY.format(identity), 1, px=max(1, int(seconds * 1000)))
    except Exception:  # noqa: BLE001 - the cookie still pins a browser
        pass
