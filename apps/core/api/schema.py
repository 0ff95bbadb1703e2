"""OpenAPI details drf-spectacular cannot infer, added to every operation so that the document
says exactly what the server enforces:

- the problem+json error responses each operation can give (400 only where it takes input, 409
  and 422 on POST, 412 where If-Match is honoured, 415 where it takes a body, …);
- the request headers (If-None-Match, If-Match, and the idempotency hook's header with its
  syntax) and the response headers (ETag, Retry-After, and those the throttles announce: the
  rate limits' RateLimit-Policy / RateLimit);
- string fields as the server validates them: no NUL character, and not only whitespace where
  blank is refused (DRF trims), for request bodies and django-filter parameters alike;
- integer ids for `{id}` (UUIDs where the model's key is one).

The slots of apps.core.api.views describe themselves: each throttle class's `schema_headers()`
(the headers of its successful and 429 answers), the idempotency hook's `schema_parameter()`
(its request header on POST). An authentication class is described by the OpenAPI extension its
app registers (drf-spectacular's OpenApiAuthenticationExtension).
"""

from django.db import models
from django.forms import fields as form_fields
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_view_model
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .views import idempotency_hook


class ProblemFieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field or parameter at fault (dotted for nested ones).")
    message = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details: `title` is the status's reason phrase, `detail` the specifics."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)


ERRORS = {
    400: "The request does not match this document: `errors` names each field or parameter at fault.",
    401: "No valid credentials (missing, malformed, unknown, revoked or expired API key).",
    402: "A limit of the organisation's plan refused it (type "
    "`https://reactdjango-hub.dev/problems/plan-limit`: `quantity`, `limit`, `used`, `plan`, `upgrade_url`).",
    403: "The caller's role or the key's scopes do not allow this.",
    404: "No such object in this organisation (or a cursor this list did not issue).",
    406: "The Accept header asks for something other than JSON.",
    409: "A request with this Idempotency-Key is still being processed: retry it later.",
    410: "This API version has been retired.",
    412: "If-Match does not match the current ETag.",
    415: "The body is not JSON.",
    422: "A rule refused the request (`errors` names the fields), or the Idempotency-Key was used with "
    "a different request.",
    429: "Rate limit exceeded: retry after Retry-After seconds.",
}


def response_header(schema: dict, description: str, deprecated: bool = False) -> dict:
    header = {"schema": schema, "description": description}
    if deprecated:
        header["deprecated"] = True
    return header


# What DRF's CharField and Django's forms.CharField accept: no NUL character (PostgreSQL cannot
# store it) and, where blank is refused, something other than whitespace (both trim it).
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = r"^[^\u0000]*[^\u0000\s][^\u0000]*$"


def string_pattern(*, allow_blank: bool, trims: bool) -> str:
    return NOT_BLANK if trims and not allow_blank else NO_NUL


def _id_schema(model) -> dict:
    pk = model._meta.pk if model is not None else None
    if isinstance(pk, models.UUIDField):
        return {"type": "string", "format": "uuid"}
    # HubGenericViewSet's lookup_value_regex: 1 to 18 digits.
    return {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}


class HubAutoSchema(AutoSchema):
    def get_override_parameters(self):
        params = list(super().get_override_parameters())
        method = self.method.upper()
        if "{id}" in self.path:
            schema = _id_schema(get_view_model(self.view))
            params.append(OpenApiParameter("id", schema, OpenApiParameter.PATH, description="The object's id."))
        if method == "POST" and idempotency_hook() is not None:
            params.append(idempotency_hook().schema_parameter())
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

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if (
            direction == "request"
            and isinstance(field, serializers.CharField)
            and schema.get("type") == "string"
            and "format" not in schema
            and "enum" not in schema
        ):
            schema.setdefault("pattern", string_pattern(allow_blank=field.allow_blank, trims=field.trim_whitespace))
        return schema

    def _error_codes(self, operation: dict) -> list[int]:
        method = self.method.upper()
        params = operation.get("parameters", [])
        takes_input = (
            "requestBody" in operation
            or method == "POST"  # Idempotency-Key
            or any(p["in"] == "query" for p in params)
        )
        codes = [401, 403, 404, 406, 410]
        if self.view.throttle_classes:
            codes += [402, 429]  # the plan's API calls a month, the rate limit
        elif 402 in getattr(self.view, "problem_statuses", ()):
            codes.append(402)
        if takes_input:
            codes.append(400)
        if "requestBody" in operation:
            codes.append(415)
        if method == "POST" and idempotency_hook() is not None:
            codes.append(409)
        if any(p["in"] == "header" and p["name"] == "If-Match" for p in params):
            codes.append(412)
        if method in ("POST", "PUT", "PATCH", "DELETE") or 422 in getattr(self.view, "problem_statuses", ()):
            codes.append(422)
        return sorted(codes)

    def _rate_limit_headers(self) -> dict:
        """The headers the view's throttles announce (schema_headers())."""
        headers = {}
        for throttle in self.view.throttle_classes:
            schema_headers = getattr(throttle, "schema_headers", None)
            if schema_headers is not None:
                headers.update(schema_headers())
        return headers

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        rate_limit_headers = self._rate_limit_headers()
        for code, response in responses.items():
            if code.startswith("2"):
                headers = response.setdefault("headers", {})
                headers.update(rate_limit_headers)
                if self.method.upper() == "GET":
                    headers["ETag"] = response_header(
                        {"type": "string"}, "Of this response (send it in If-None-Match)."
                    )
        problem = self.resolve_serializer(ProblemSerializer, "response").ref
        for code in self._error_codes(operation):
            entry = {"description": ERRORS[code], "content": {"application/problem+json": {"schema": problem}}}
            if code == 429:
                entry["headers"] = {
                    "Retry-After": response_header({"type": "integer"}, "Seconds to wait."),
                    **rate_limit_headers,
                }
            responses.setdefault(str(code), entry)
        if self.method.upper() == "GET":
            responses.setdefault("304", {"description": "Not modified (If-None-Match matched the ETag)."})
        operation["responses"] = dict(sorted(responses.items()))
        return operation


class HubFilterExtension(DjangoFilterExtension):
    """django-filter parameters as their form fields validate them: an integer filter (IdFilter)
    is an integer with its bounds, a text filter has its length bounds and no NUL character."""

    target_class = "apps.core.api.filters.HubFilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        params = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        field = filter_field.field
        for param in params:
            schema = param["schema"]
            if isinstance(field, form_fields.IntegerField):
                schema["type"] = "integer"
                schema.pop("format", None)
                if field.min_value is not None:
                    schema["minimum"] = field.min_value
                if field.max_value is not None:
                    schema["maximum"] = field.max_value
            elif isinstance(field, form_fields.CharField) and "enum" not in schema and "format" not in schema:
                if field.max_length is not None:
                    schema["maxLength"] = field.max_length
                if field.min_length is not None:
                    schema["minLength"] = field.min_length
                schema["pattern"] = NO_NUL  # an empty or blank text filter filters nothing
        return params
