"""The generic connector: any HTTP/JSON service (mail servers: mail.py)."""

from ..errors import ConnectorError
from . import Action, Connector, obj, text

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _http_request(client, inputs):
    reply = client.request(
        inputs.get("method") or "GET",
        inputs.get("path") or "",
        query=inputs.get("query") or None,
        headers=inputs.get("headers") or None,
        json_body=inputs.get("body"),
    )
    return {"status": reply.status, "body": reply.data()}


def _http_check(client):
    reply = client.request("GET", client.connection.settings.get("check_path", ""), check=False)
    if reply.status in (401, 403):
        from ..client import raise_for_status

        raise_for_status(reply, client.service)
    if reply.status >= 500:
        raise ConnectorError(f"{client.service} answered {reply.status}.", retryable=True, status=reply.status)
    return f"{client.service} answered {reply.status}."


HTTP = Connector(
    "http",
    "HTTP / JSON",
    "Any service that speaks HTTP and JSON: the connection holds its address and credential.",
    ("none", "api_key", "basic", "bearer", "oauth2"),
    check=_http_check,
    settings_help="check_path: the path the connection test GETs (default: the base URL itself).",
    actions=(
        Action(
            "http.request",
            "HTTP: send a request",
            "Sends a request to a path of the connection's address, with its credential, and returns the answer.",
            obj(
                {
                    "method": {"type": "string", "enum": METHODS, "default": "GET"},
                    "path": text("The path under the connection's address, e.g. /v1/orders."),
                    "query": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
                    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
                    "body": {"description": "A JSON body (POST, PUT, PATCH)."},
                }
            ),
            _http_request,
            obj({"status": {"type": "integer"}, "body": {}}),
        ),
    ),
)


CONNECTORS = [HTTP]
