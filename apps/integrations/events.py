"""The event types the integration hub publishes."""

from django.urls import reverse

from apps.core.events import payload_schema
from apps.core.registry import EventType

_CONNECTION = {
    "connection_id": {"type": "integer"},
    "name": {"type": "string"},
    "connector": {"type": "string"},
    "auth_type": {"type": "string"},
}
_SPEC = payload_schema(
    {
        "spec_id": {"type": "integer"},
        "key": {"type": "string"},
        "title": {"type": "string"},
        "operations": {"type": "integer"},
    },
    ["spec_id", "key", "title", "operations"],
)


def _connection_page(event) -> str:
    return reverse("integrations:connection", args=[event.payload["connection_id"]])


def _index(event) -> str:
    return reverse("integrations:index")


def _specs(event) -> str:
    return reverse("integrations:specs")


EVENT_TYPES = [
    EventType(
        "integrations.connection_created",
        "Connection added",
        "A connection to an outside service (its address and credential) was added.",
        payload_schema(_CONNECTION, list(_CONNECTION)),
        summary="{actor} connected “{name}”",
        link=_connection_page,
    ),
    EventType(
        "integrations.connection_changed",
        "Connection changed",
        "A connection's address, settings or credential changed.",
        payload_schema(_CONNECTION, list(_CONNECTION)),
        summary="{actor} changed the connection “{name}”",
        link=_connection_page,
    ),
    EventType(
        "integrations.connection_deleted",
        "Connection deleted",
        "A connection and its credential were deleted.",
        payload_schema(_CONNECTION, list(_CONNECTION)),
        summary="{actor} deleted the connection “{name}”",
        link=_index,
    ),
    EventType(
        "integrations.connection_failed",
        "Connection stopped working",
        "A connection's test or call failed: the service is down, or it refused the credential.",
        payload_schema({**_CONNECTION, "reason": {"type": "string"}}, [*_CONNECTION, "reason"]),
        summary="The connection “{name}” stopped working: {reason}",
        link=_connection_page,
    ),
    EventType(
        "integrations.spec_imported",
        "API imported",
        "An OpenAPI document was imported: each of its operations is an action.",
        _SPEC,
        summary="{actor} imported the API “{title}” ({operations} operations)",
        link=_specs,
    ),
    EventType(
        "integrations.spec_deleted",
        "Imported API deleted",
        "An imported OpenAPI document and its actions were deleted.",
        _SPEC,
        summary="{actor} deleted the imported API “{title}”",
        link=_specs,
    ),
]
