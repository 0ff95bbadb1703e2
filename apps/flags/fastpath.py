"""POST /api/v1/flags/evaluate answered in front of Django's request cycle when this process can
answer it from memory (config.asgi wraps the HTTP application in EvaluateFastPath).

A flag check sits on the request path of the tenant's own product, so it must be fast under load
(PostHog moved its flag evaluation to a service of its own for the same reason). Through Django a
call costs ~3 ms of worker CPU on the benchmark machine (twenty-two middlewares, DRF's request,
serializer and renderer) for 0.07 ms of evaluating 20 flags; here ~0.4 ms. The common case is
answered directly:

- the Host is an active tenant's, already in this process's routing cache;
- the caller is known to this process's caches: an API key (valid, its scope and its creator's
  role allowing the view, checked by the view's own rules) or the project key (in the header, or as
  api_key / token in the body) with the Origin it allows;
- the body is JSON of the shape EvaluateSerializer accepts as it is (nothing it would trim, convert
  or refuse), without an Idempotency-Key (the view keeps and replays answers);
- the tenant's flags are compiled in this process and name no cohort (a database read).

The answer is made by the view's pieces: the rate limit and usage count (apps.api.metering; a 429
made by the API's problem handler), the evaluation with its exposures (views.evaluation), the CORS
headers, and the middlewares that put headers on every response (the request id, metrics, trace and
log line of apps.ops, Django's security headers, the Content-Security-Policy). Anything else goes on
to Django unchanged, its body replayed, so every refusal and error comes from the view, in one place.
"""

import io
import json
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import resolve
from django.utils.cache import patch_vary_headers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer

from apps.analytics.cors import cors
from apps.api.authentication import check_entry
from apps.api.keycache import cache as api_keys
from apps.api.keycache import split_key
from apps.api.metering import meter
from apps.core.api import scopes
from apps.core.api.exceptions import Throttled, problem_exception_handler
from apps.core.http import PROBLEM
from apps.core.middleware import ContentSecurityPolicyMiddleware
from apps.ops.middleware import OpsMiddleware
from apps.tenancy.routing import routes

from . import selectors
from .api.auth import ProjectKeyUser, project_key_of
from .api.views import EvaluateView, evaluation

PATH = "/api/v1/flags/evaluate"
MAX_BODY = 64 * 1024  # a larger body goes to Django (its DATA_UPLOAD_MAX_MEMORY_SIZE applies there)
RENDERER = JSONRenderer()
ALLOW = ", ".join(EvaluateView().allowed_methods)
ACCEPTED = {"*/*", "application/*", "application/json"}  # an Accept header's ranges JSON answers


class EvaluateFastPath:
    """An ASGI wrapper around the HTTP application: answers what `accepted` takes, passes the rest on."""

    def __init__(self, inner):
        self.inner = inner
        # The middlewares of settings.MIDDLEWARE that put something on this answer, in their order.
        self.chain = OpsMiddleware(
            SecurityMiddleware(XFrameOptionsMiddleware(ContentSecurityPolicyMiddleware(respond)))
        )
        self.match = None  # the view's URL match, for the metrics' route label (resolved on first use)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            return await self.inner(scope, receive, send)
        messages, body = await _read(receive)
        request = self.accepted(scope, body) if body is not None else None
        if request is None:
            return await self.inner(scope, _replay(messages, receive), send)
        response = self.chain(request)
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": response.content})

    def accepted(self, scope, body: bytes) -> ASGIRequest | None:
        """The request, carrying its answer, when this process can make it from memory; else None."""
        request = ASGIRequest(scope, io.BytesIO(body))
        if request.content_type != "application/json" or (request.encoding or "utf-8").lower() != "utf-8":
            return None
        accept = request.headers.get("Accept", "*/*")
        ranges = {part.split(";")[0].strip() for part in accept.split(",")}
        if "content-encoding" in request.headers or "indent" in accept or not ACCEPTED & ranges:
            return None  # what the view's negotiation refuses, or renders otherwise
        if "idempotency-key" in request.headers:
            return None  # the view keeps (or replays) the answer, or refuses a malformed key
        if "v1" in settings.HUB_API_DEPRECATED_VERSIONS:
            return None  # its Deprecation and Sunset headers, or its 410, come from the view
        try:
            hostname = request.get_host().rsplit(":", 1)[0].lower()  # validates against ALLOWED_HOSTS
        except DisallowedHost:
            return None
        tenant = routes.cached(hostname)
        if tenant is None or tenant.is_public or not tenant.is_active:
            return None
        data = well_formed(body)
        if data is None:
            return None
        caller = _caller(request, tenant, data)
        if caller is None:
            return None
        user, principal, key_id, project_key = caller
        origin = request.headers.get("Origin", "")
        if origin and project_key is not None and not project_key.allows_origin(origin):
            return None
        flags = selectors.compiled_flags(schema=tenant.schema_name, cached_only=True)
        if flags is None or selectors.cohorts_named(flags):
            return None
        if self.match is None:
            self.match = resolve(PATH)
        request.tenant, request.user, request.resolver_match = tenant, user, self.match
        # What the answer needs (nothing here refers back to the request: a cycle would leave every
        # request's objects to the garbage collector, whose pauses then make the slowest answers).
        request.fast_path = Answer(
            data=data,
            flags=flags,
            principal=principal,
            key_id=key_id,
            cors_origin=origin if project_key is not None else "",
        )
        return request


@dataclass(slots=True)
class Answer:
    data: dict
    flags: dict
    principal: str
    key_id: int | None
    cors_origin: str


def respond(request) -> HttpResponse:
    """The answer, once the call is counted against its rate limit (as the view's throttle does)."""
    answer, tenant = request.fast_path, request.tenant
    state = meter.hit(tenant=tenant, principal=answer.principal, key_id=answer.key_id)
    if state is not None and state.exceeded:
        problem = problem_exception_handler(Throttled(wait=state.reset), {})
        response = HttpResponse(RENDERER.render(problem.data), status=problem.status_code, content_type=PROBLEM)
        for name, value in problem.items():
            response.headers.setdefault(name, value)
    else:
        content = RENDERER.render(evaluation(answer.data, schema=tenant.schema_name, flags=answer.flags))
        response = HttpResponse(content, content_type="application/json")
        if answer.cors_origin:
            cors(response, answer.cors_origin)
    response["Allow"] = ALLOW
    for name, value in (state.headers() if state else {}).items():
        response[name] = value
    patch_vary_headers(response, ["Authorization"])
    response["Content-Length"] = str(len(response.content))
    return response


def _caller(request, tenant, data) -> tuple | None:
    """(user, rate-limit principal, API key id, project key) as the view's authentication classes
    would find them (the project key first, then an API key), from this process's caches only."""
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    raw = raw.strip() if scheme.lower() == "bearer" else ""
    if not raw.startswith("phc_"):
        in_body = data.get("api_key") or data.get("token") or ""
        if in_body.startswith("phc_"):
            raw = in_body
    if raw.startswith("phc_"):
        entry = project_key_of(raw, schema=tenant.schema_name, cached_only=True)
        return None if entry is None else (ProjectKeyUser(), f"project-key:{entry.id}", None, entry)
    prefix = split_key(raw)
    entry = api_keys.cached(tenant, prefix) if prefix else None
    if entry is None or not scopes.allows(entry.scopes, EvaluateView.api_scope, write=False):
        return None
    try:
        membership = check_entry(entry, raw)
    except AuthenticationFailed:  # revoked, expired, its creator gone: the view says which
        return None
    if not membership.allows(EvaluateView.read_permission):
        return None
    return membership.user, f"key:{entry.id}", entry.id, None


def _text(value, max_length: int) -> bool:
    """A string a DRF CharField takes unchanged: not blank, nothing to trim, no control character."""
    return type(value) is str and 0 < len(value) <= max_length and value.isprintable() and value == value.strip()


def _refuse_constant(name):
    raise ValueError(name)  # NaN and Infinity: DRF's parser refuses them too


def well_formed(body: bytes) -> dict | None:
    """EvaluateSerializer's validated data when it would take the body unchanged, else None."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except ValueError:  # UnicodeDecodeError and JSONDecodeError included
        return None
    if type(data) is not dict or not _text(data.get("distinct_id"), 200):
        return None
    fields = {
        "distinct_id": data["distinct_id"],
        "properties": data.get("properties", {}),
        "groups": data.get("groups", {}),
        "group_properties": data.get("group_properties", {}),
        "exposures": data.get("exposures", True),
    }
    if (
        type(fields["properties"]) is not dict
        or type(fields["groups"]) is not dict
        or not all(_text(v, 200) for v in fields["groups"].values())
        or type(fields["group_properties"]) is not dict
        or not all(type(v) is dict for v in fields["group_properties"].values())
        or type(fields["exposures"]) is not bool
    ):
        return None
    if "flags" in data:
        flags = data["flags"]
        if type(flags) is not list or len(flags) > 500 or not all(_text(f, 100) for f in flags):
            return None
        fields["flags"] = flags
    for name in ("api_key", "token"):
        if name in data:
            if not _text(data[name], 1000):
                return None
            fields[name] = data[name]
    return fields


async def _read(receive) -> tuple[list, bytes | None]:
    """The request's messages read so far, and its body (None: too large, or the client left)."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        size += len(message.get("body", b""))
        if size > MAX_BODY:
            return messages, None
        if not message.get("more_body"):
            return messages, b"".join(m.get("body", b"") for m in messages)


def _replay(messages: list, receive):
    """A `receive` that gives the messages already read, then the connection's own."""
    pending = list(messages)

    async def replayed():
        return pending.pop(0) if pending else await receive()

    return replayed
