"""OpenAPI details drf-spectacular cannot infer: the problem+json error responses of every
operation, the Idempotency-Key / If-None-Match / If-Match headers, and the two authentication
schemes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field at fault (dotted for nested ones).")
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)


ERRORS = {
    400: "Invalid input: `errors` names each field at fault.",
    401: "No valid credentials (missing, malformed, unknown, revoked or expired API key).",
    403: "The caller's role or the key's scopes do not allow this.",
    404: "No such object in this organisation.",
    406: "The Accept header asks for something other than JSON.",
    409: "Idempotency-Key reused with a different request, or still in flight.",
    410: "This API version has been retired.",
    412: "If-Match does not match the current ETag.",
    415: "The body is not JSON.",
    429: "Rate limit exceeded: retry after Retry-After seconds.",
}


RATE_LIMIT_HEADERS = (
    ("RateLimit-Limit", "Calls allowed per minute (the tenant's plan)."),
    ("RateLimit-Remaining", "Calls left in this minute."),
    ("RateLimit-Reset", "Seconds until the minute ends."),
)


class HubAutoSchema(AutoSchema):
    def _error_codes(self) -> list[int]:
        method = self.method.upper()
        codes = [400, 401, 403, 404, 406, 410, 429]
        if method in ("POST", "PUT", "PATCH"):
            codes.append(415)
        if method == "POST":
            codes.append(409)
        if method in ("PUT", "PATCH", "DELETE"):
            codes.append(412)
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code, response in responses.items():
            if code.startswith("2") and "headers" not in response:  # e.g. a 204 (no body)
                response["headers"] = {
                    name: {"schema": {"type": "integer"}, "description": description}
                    for name, description in RATE_LIMIT_HEADERS
                }
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        for code in self._error_codes():
            entry = {"description": ERRORS[code], "content": {"application/problem+json": {"schema": problem}}}
            if code == 429:
                entry["headers"] = {
                    "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."},
                    "RateLimit-Remaining": {"schema": {"type": "integer"}, "description": "0."},
                }
            responses.setdefault(str(code), entry)
        if self.method.upper() == "GET":
            responses.setdefault("304", {"description": "Not modified (If-None-Match matched the ETag)."})
        return responses

    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        method = self.method.upper()
        if "{id}" in self.path:
            params.append(OpenApiParameter("id", int, OpenApiParameter.PATH, description="The object's id."))
        # Response headers.
        for name, description in RATE_LIMIT_HEADERS:
            params.append(OpenApiParameter(name, int, OpenApiParameter.HEADER, description=description, response=True))
        params.append(
            OpenApiParameter(
                "Retry-After", int, OpenApiParameter.HEADER, description="Seconds to wait.", response=[429]
            )
        )
        if method == "GET":
            params.append(
                OpenApiParameter("ETag", str, OpenApiParameter.HEADER, description="Of this response.", response=[200])
            )
        if method == "POST":
            params.append(
                OpenApiParameter(
                    "Idempotency-Key",
                    str,
                    OpenApiParameter.HEADER,
                    description="Send the same key to retry safely: the first response is replayed for 24 hours.",
                )
            )
        if method == "GET":
            params.append(
                OpenApiParameter(
                    "If-None-Match", str, OpenApiParameter.HEADER, description="An ETag from an earlier response."
                )
            )
        if method in ("PUT", "PATCH", "DELETE") and not self._is_list_view():
            params.append(
                OpenApiParameter(
                    "If-Match", str, OpenApiParameter.HEADER, description="Act only if the ETag still matches."
                )
            )
        return params


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hub_<prefix>_<secret>",
            "description": "An API key of this organisation, created on the API keys page.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.api.authentication.SessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
