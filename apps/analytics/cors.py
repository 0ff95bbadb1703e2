"""CORS for the endpoints a browser calls with the project key: the origins its keys allow."""

from django.db import connection
from django.http import HttpResponse

from . import keys


def cors(response, origin: str):
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin"
    return response


def preflight(request) -> HttpResponse:
    """A browser's CORS preflight (it carries no key): allowed when an active project key of the
    tenant allows the origin, as for analytics capture."""
    response = HttpResponse(status=204)
    origin = request.headers.get("Origin", "")
    if origin and keys.origin_allowed(connection.schema_name, origin):
        cors(response, origin)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding, Authorization"
        response["Access-Control-Max-Age"] = "600"
    return response
