"""The base of every API view: the same rules for every app's endpoints.

Subclass `HubAPIView` or the generic classes here and set `api_scope`, `read_permission` and
`write_permission`. What they add to DRF: rate limits (with RateLimit-Policy / RateLimit headers), the audit
actor, deprecation headers, Idempotency-Key on POST, ETag / If-None-Match on reads and If-Match
on writes of one object.
"""

import hashlib

from auditlog.context import auditlog_value
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions, generics, mixins, viewsets
from rest_framework.views import APIView

from . import idempotency
from .authentication import KeyPrincipal
from .exceptions import PreconditionFailed
from .metering import meter
from .versioning import deprecation_headers


class Throttled(exceptions.Throttled):
    default_detail = "Rate limit exceeded for this key."


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _etag_matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


class HubAPIMixin:
    api_scope: str | None = None
    read_permission: str | None = None
    write_permission: str | None = None
    # Error statuses an operation may answer beyond those the schema declares by itself
    # (apps.api.schema.HubAutoSchema), e.g. (422,) for a read whose parameters a rule can refuse.
    problem_statuses: tuple[int, ...] = ()

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        self.perform_authentication(request)
        self._rate_limit(request)
        self.check_permissions(request)
        self._set_audit_actor(request)
        self._idempotency_record = None
        if request.user is not None and request.user.is_authenticated:
            self._idempotency_record = idempotency.begin(request, self._principal(request))

    @staticmethod
    def _principal(request) -> str:
        if isinstance(request.auth, KeyPrincipal):
            return request.auth.principal
        return f"user:{request.user.pk}"

    def _rate_limit(self, request):
        """Counts the call (apps.api.metering): 429 past the limit; no limit while Redis is down."""
        user = request.user
        if user is None or not user.is_authenticated:
            return
        key = request.auth if isinstance(request.auth, KeyPrincipal) else None
        state = meter.hit(tenant=request._request.tenant, principal=self._principal(request), key_id=key and key.id)
        request._request.rate_limit = state
        if state is not None and state.exceeded:
            raise Throttled(wait=state.reset)

    @staticmethod
    def _set_audit_actor(request):
        try:
            auditlog_value.get()["actor"] = request.user
        except LookupError:
            pass

    def check_precondition(self, instance):
        """If-Match on a write of one object: 412 unless the ETag still matches. Views call it
        after validating the body (a bad body is a 400 first)."""
        header = self.request.headers.get("If-Match")
        if not header:
            return
        data = self.get_serializer(instance).data
        request = self.request
        content = request.accepted_renderer.render(data, request.accepted_media_type, self.get_renderer_context())
        if not _etag_matches(header, _etag(content)):
            raise PreconditionFailed()

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        http = request._request  # attributes read through DRF's Request proxy cost ~10x more
        state = getattr(http, "rate_limit", None)
        if state is not None:
            for name, value in state.headers().items():
                response[name] = value
        for name, value in deprecation_headers(getattr(request, "version", None)).items():
            response[name] = value
        patch_vary_headers(response, ["Authorization"])
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            idempotency.complete(record, response)
        if http.method in ("GET", "HEAD") and response.status_code == 200 and hasattr(response, "render"):
            response.render()
            etag = _etag(response.content)
            response["ETag"] = etag
            if_none_match = http.headers.get("If-None-Match")
            if if_none_match and _etag_matches(if_none_match, etag):
                response.status_code = 304
                response.content = b""
                del response["Content-Type"]
        return response


class HubAPIView(HubAPIMixin, APIView):
    pass


class HubGenericAPIView(HubAPIMixin, generics.GenericAPIView):
    pass


class HubGenericViewSet(HubAPIMixin, viewsets.GenericViewSet):
    # Ids are integers that fit PostgreSQL's bigint; anything else is a 404, never a 500.
    lookup_value_regex = "[0-9]{1,18}"


__all__ = ["HubAPIView", "HubGenericAPIView", "HubGenericViewSet", "mixins"]
