"""The ready connectors: each a service (its default address, the credentials it takes, how to
test a connection) and its actions (typed inputs and outputs as JSON Schema, and the call).

The actions are registered as workflow nodes "<connector>.<action>" (apps.integrations.actions);
apps.integrations.catalogue lists them all, the bundled OpenAPI documents' operations included."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Action:
    key: str  # "<connector>.<action>"
    label: str
    description: str
    input_schema: dict
    call: Callable[..., Any]  # call(client, inputs) -> output
    output_schema: dict = field(default_factory=dict)
    auth_types: tuple[str, ...] = ()  # the connection kinds it works with (() = any of the connector's)


@dataclass(frozen=True)
class Connector:
    key: str
    label: str
    description: str
    auth_types: tuple[str, ...]
    default_base_url: str = ""
    # check(client) -> words about what answered; raises ConnectorError. None: the connection's
    # address is checked against the SSRF guard only (a webhook cannot be called without posting).
    check: Callable[..., str] | None = None
    actions: tuple[Action, ...] = ()
    settings_help: str = ""  # what goes in the connection's settings, if anything
    # (authorization URL, token URL) of its OAuth 2.0 provider: the defaults of an OAuth connection's form
    oauth_endpoints: tuple[str, str] | None = None


def obj(properties: dict, required=(), **extra) -> dict:
    """A JSON Schema object of `properties`, `required` ones required, nothing else allowed."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
        **extra,
    }


def text(description: str, **extra) -> dict:
    return {"type": "string", "description": description, **extra}
