"""Event stores: where a tenant's events live and its queries run (see base.py).

The store of a tenant is its EventStoreChoice row, else HUB_ANALYTICS_STORE ("postgres"). An
operator moves a tenant with `manage.py analytics_move_store --tenant <schema> --to clickhouse`
(services.event_store_move): history copied, then the tenant flipped.
"""

from django.db import connection

from .. import conf
from ..models import EventStoreChoice
from .base import CLICKHOUSE, NAMES, POSTGRES, EventStore


def store_choice() -> tuple[str, bool]:
    """(store name, moving) of the current tenant."""
    row = EventStoreChoice.objects.filter(pk=1).values_list("store", "moving").first()
    return row if row else (conf.get("HUB_ANALYTICS_STORE"), False)


def store_named(name: str, schema: str | None = None) -> EventStore:
    if name == CLICKHOUSE:
        from .clickhouse import ClickHouseStore  # ClickHouse's clients load only when a tenant uses it

        return ClickHouseStore(schema or connection.schema_name)
    from .postgres import PostgresStore

    return PostgresStore()


def store_current() -> EventStore:
    """The current tenant's event store."""
    return store_named(store_choice()[0])


__all__ = ["CLICKHOUSE", "NAMES", "POSTGRES", "EventStore", "store_choice", "store_current", "store_named"]
