"""Reads: a tenant's connections and imported OpenAPI documents (the schema being served holds
only its own tenant's), and the connectors' catalogue."""

from django.db.models import QuerySet

from .catalogue import connectors
from .models import ApiSpec, Connection


def connection_list() -> QuerySet[Connection]:
    return Connection.objects.order_by("name")


def spec_list() -> QuerySet[ApiSpec]:
    return ApiSpec.objects.order_by("key")


def connector_catalogue(*, key: str | None = None, schemas: bool = True) -> list[dict]:
    """The ready connectors (only `key`'s when given) with their actions, for the API and the
    pages; each action's input and output JSON Schemas with `schemas`."""
    return [
        {
            "key": c.key,
            "label": c.label,
            "description": c.description,
            "auth_types": list(c.auth_types),
            "default_base_url": c.default_base_url,
            "actions": [
                {
                    "key": a.key,
                    "label": a.label,
                    "description": a.description,
                    "auth_types": list(a.auth_types),
                    **({"input_schema": a.input_schema, "output_schema": a.output_schema} if schemas else {}),
                }
                for a in c.actions
            ],
        }
        for c in connectors().values()
        if key is None or c.key == key
    ]
