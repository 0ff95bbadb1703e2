"""The one door to the event spine for apps below it (tenancy, identity), and the shape of
event payload schemas.

`publish()` records a domain event in the tenant's outbox, inside the caller's transaction.
The implementation belongs to apps.events, which installs it in its AppConfig.ready(); lower
layers import this module instead of apps.events so the layers keep pointing downwards.
"""

from collections.abc import Callable
from typing import Any

from .caching import event_topics, topics_bump_on_commit

_publisher: Callable[..., Any] | None = None


def install_publisher(publisher: Callable[..., Any]) -> None:
    global _publisher
    _publisher = publisher


def publish(event_type: str, payload: dict, *, tenant, actor=None):
    """Writes an outbox row for `event_type` in `tenant`'s schema, in the current transaction.

    After commit the event is dispatched to every handler registered for its type. Raises
    LookupError when the event spine is not installed (apps.events missing from INSTALLED_APPS).
    """
    if _publisher is None:
        raise LookupError("no event publisher installed: add apps.events to INSTALLED_APPS")
    event = _publisher(event_type, payload, tenant=tenant, actor=actor)
    # What the event changed is committed with it: the cached reads it makes stale are bumped then.
    topics_bump_on_commit(*event_topics(event_type), schema_name=tenant.schema_name)
    return event


def payload_schema(properties: dict, required: list[str]) -> dict:
    """The JSON Schema (2020-12) of an event payload: an object with these properties, no others."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
