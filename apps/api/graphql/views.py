"""/graphql/: GraphQL over HTTP (POST, or GET for queries) with the REST API's authentication
(session or API key: DEFAULT_AUTHENTICATION_CLASSES), scopes and roles per field
(apps.core.graphql.needs), rate limit and metering (apps.api.metering, charged the query's price
before it runs: .cost) and persisted queries (.persisted). A browser asking for HTML gets GraphiQL,
from vendored assets.

Every error has a code in `extensions.code`. A request refused before it runs answers 4xx (401
UNAUTHENTICATED, 403 FORBIDDEN, 429 RATE_LIMITED, 400 BAD_REQUEST, GRAPHQL_PARSE_FAILED,
GRAPHQL_VALIDATION_FAILED, QUERY_TOO_DEEP, QUERY_TOO_COMPLEX, PERSISTED_QUERY_HASH_MISMATCH;
PERSISTED_QUERY_NOT_FOUND with 200, as Apollo's clients expect); once it runs, 200 with `data` and
the resolvers' `errors` (FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT, INTERNAL_SERVER_ERROR).
"""

import functools
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.middleware.csrf import get_token
from django.shortcuts import render
from graphql import GraphQLError, OperationDefinitionNode, OperationType, get_operation_ast, parse, validate
from graphql.validation import NoSchemaIntrospectionCustomRule, specified_rules
from rest_framework import exceptions, permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.api.exceptions import _flatten
from apps.core.api.parsers import JSONParser
from apps.core.api.views import HubAPIView
from apps.core.graphql import FORBIDDEN, INTERNAL, UNAUTHENTICATED, Context, error_code

from ..docs import DOCS_CSP
from ..throttling import MeteringThrottle
from .cost import Price, price
from .persisted import persisted_get, persisted_put, sha256
from .schema import schema

STATUS_CODES = {
    400: "BAD_REQUEST",
    401: UNAUTHENTICATED,
    403: FORBIDDEN,
    405: "METHOD_NOT_ALLOWED",
    429: "RATE_LIMITED",
}


class Refused(Exception):
    """A request answered with an error before anything runs."""

    def __init__(self, status: int, code: str, message: str, **extensions):
        super().__init__(message)
        self.status, self.code, self.message, self.extensions = status, code, message, extensions


def _error(message: str, code: str, **extensions) -> dict:
    return {"message": message, "extensions": {"code": code, **extensions}}


class Member(permissions.BasePermission):
    """A signed-in member of the organisation (or a key of one); each field checks the rest."""

    def has_permission(self, request, view):
        if request.user is None or not request.user.is_authenticated:
            return False
        if getattr(request._request, "membership", None) is None:
            raise exceptions.PermissionDenied("You are not a member of this organisation.")
        return True


@functools.lru_cache(maxsize=512)
def _document(query: str, introspection: bool):
    """The parsed document of a query and its validation errors (queries repeat: kept)."""
    try:
        document = parse(query)
    except GraphQLError as error:
        raise Refused(400, "GRAPHQL_PARSE_FAILED", error.message) from None
    rules = specified_rules if introspection else (*specified_rules, NoSchemaIntrospectionCustomRule)
    return document, tuple(validate(schema()._schema, document, rules))


def _json_param(value, name: str):
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            return decoded
    raise Refused(400, "BAD_REQUEST", f"`{name}` must be a JSON object.")


def checked(query: str, variables: dict | None, operation: str | None) -> tuple[OperationDefinitionNode, Price]:
    """The operation to run of `query` and its price, or Refused: not GraphQL, not valid against the
    schema, no operation named, deeper or costlier than allowed (for HTTP and the websocket alike)."""
    document, errors = _document(query, settings.HUB_GRAPHQL_INTROSPECTION)
    if errors:
        found = [{"message": e.message, "locations": [loc._asdict() for loc in e.locations or ()]} for e in errors]
        raise Refused(400, "GRAPHQL_VALIDATION_FAILED", errors[0].message, errors=found)
    op = get_operation_ast(document, operation)
    if op is None:
        raise Refused(400, "BAD_REQUEST", "Name the operation to run (operationName).")
    cost = price(schema()._schema, document, variables, operation)
    if cost.depth > settings.HUB_GRAPHQL_MAX_DEPTH:
        raise Refused(
            400, "QUERY_TOO_DEEP", f"The query is {cost.depth} levels deep; at most "
            f"{settings.HUB_GRAPHQL_MAX_DEPTH} are allowed.", depth=cost.depth,
            maxDepth=settings.HUB_GRAPHQL_MAX_DEPTH,
        )  # fmt: skip
    if cost.cost > settings.HUB_GRAPHQL_MAX_COST or cost.nodes > settings.HUB_GRAPHQL_MAX_NODES:
        raise Refused(
            400, "QUERY_TOO_COMPLEX", f"The query costs {cost.cost} and may return {cost.nodes} nodes; at most "
            f"{settings.HUB_GRAPHQL_MAX_COST} and {settings.HUB_GRAPHQL_MAX_NODES} are allowed. Ask for fewer "
            "nodes (first/last) or split the query.", cost=cost.cost, maxCost=settings.HUB_GRAPHQL_MAX_COST,
            nodes=cost.nodes, maxNodes=settings.HUB_GRAPHQL_MAX_NODES,
        )  # fmt: skip
    return op, cost


def charge(throttle: MeteringThrottle, request, cost: Price) -> None:
    """Takes the query's price from the caller's rate limit (and counts the call), or Refused (429)."""
    if not throttle.charge(request, cost.cost):
        raise Refused(
            429, "RATE_LIMITED", f"This query costs {cost.cost}, more than is left of the rate limit.",
            cost=cost.cost, retryAfter=throttle.wait(),
        )  # fmt: skip


class GraphQLView(HubAPIView):
    permission_classes = [Member]
    throttle_classes = []  # charged the query's price in run(), once it is known
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get(self, request, *args, **kwargs):
        return self.run(request, request.query_params.dict(), method="GET")

    def post(self, request, *args, **kwargs):
        if not isinstance(request.data, dict):
            return self.refused(Refused(400, "BAD_REQUEST", "Send a JSON object: {query, variables, operationName}."))
        return self.run(request, request.data, method="POST")

    def refused(self, refusal: Refused) -> Response:
        return Response(
            {"errors": [_error(refusal.message, refusal.code, **refusal.extensions)]}, status=refusal.status
        )

    def handle_exception(self, exc):
        if isinstance(exc, Refused):
            return self.refused(exc)
        if not isinstance(exc, exceptions.APIException):
            return super().handle_exception(exc)
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            exc.status_code = 401
        detail = exc.detail if isinstance(exc.detail, str) else " ".join(m for _, m, _ in _flatten(exc.detail))
        response = Response({"errors": [_error(str(detail), STATUS_CODES.get(exc.status_code, "BAD_REQUEST"))]})
        response.status_code = exc.status_code
        if exc.status_code == 401:
            response["WWW-Authenticate"] = self.get_authenticate_header(self.request) or 'Bearer realm="api"'
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response

    def run(self, request, data: dict, *, method: str) -> Response:
        query, operation = data.get("query"), data.get("operationName") or None
        variables = _json_param(data.get("variables"), "variables")
        extensions = _json_param(data.get("extensions"), "extensions") or {}
        if not isinstance(query, str | None) or not isinstance(operation, str | None):
            raise Refused(400, "BAD_REQUEST", "`query` and `operationName` are strings.")
        persisted = extensions.get("persistedQuery")
        digest = None
        if persisted is not None:
            digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
            if not isinstance(digest, str):
                raise Refused(400, "BAD_REQUEST", "`extensions.persistedQuery.sha256Hash` is missing.")
            if query is None:
                query = persisted_get(digest)
                if query is None:
                    raise Refused(200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
                digest = None  # already kept
            elif sha256(query) != digest:
                raise Refused(400, "PERSISTED_QUERY_HASH_MISMATCH", "The sha256Hash is not the query's SHA-256.")
        if not query:
            raise Refused(400, "BAD_REQUEST", "Send a query.")
        op, cost = checked(query, variables, operation)
        if op.operation == OperationType.SUBSCRIPTION:
            raise Refused(
                400, "BAD_REQUEST", "Subscriptions run over the websocket at /graphql/ (graphql-transport-ws)."
            )
        if method == "GET" and op.operation != OperationType.QUERY:
            raise Refused(405, "METHOD_NOT_ALLOWED", "Mutations are sent with POST.")
        if digest is not None:
            persisted_put(digest, query)
        self._throttles = [throttle := MeteringThrottle()]  # its RateLimit headers go on the answer
        charge(throttle, request, cost)
        http = request._request
        result = schema().execute_sync(
            query, variable_values=variables, operation_name=operation,
            context_value=Context(request=request, http=http, tenant=http.tenant, membership=http.membership),
        )  # fmt: skip
        body = {}
        if result.errors:
            body["errors"] = [_format(error) for error in result.errors]
        body["data"] = result.data
        state = throttle.state
        body["extensions"] = {
            "cost": {
                "requestedQueryCost": cost.cost,
                "nodes": cost.nodes,
                **(
                    {"limit": state.limit, "remaining": max(state.remaining, 0), "resetIn": state.reset}
                    if state
                    else {}
                ),
            }
        }
        return Response(body)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 429 and "Retry-After" not in response:
            for throttle in getattr(self, "_throttles", ()):
                if throttle.state is not None:
                    response["Retry-After"] = str(throttle.wait())
        return response


def _format(error: GraphQLError) -> dict:
    out = error.formatted
    extensions = dict(out.get("extensions") or {})
    if "code" not in extensions:
        original = error.original_error
        if original is None:
            code, message, more = "GRAPHQL_VALIDATION_FAILED", error.message, {}
        else:
            code, message, more = error_code(original)
            if code == INTERNAL:
                message = "Something went wrong on our side. It has been logged."
        out["message"] = message
        extensions.update(code=code, **more)
    out["extensions"] = extensions
    return out


_api = GraphQLView.as_view()


@login_required
def graphiql(request):
    """GraphiQL for members signed in on the dashboard (its calls send the session and CSRF token)."""
    response = render(request, "api/graphiql.html", {"csrf_token": get_token(request)})
    response["Content-Security-Policy"] = DOCS_CSP
    return response


def graphql(request, *args, **kwargs):
    """/graphql/: GraphiQL for a browser asking for a page, the API otherwise."""
    if (
        request.method == "GET"
        and "query" not in request.GET
        and "extensions" not in request.GET
        and "text/html" in request.headers.get("Accept", "")
    ):
        return graphiql(request)
    return _api(request, *args, **kwargs)


graphql.csrf_exempt = True  # DRF's SessionAuthentication checks the CSRF token of a session's POST
