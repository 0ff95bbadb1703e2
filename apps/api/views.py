"""The base of every API view: the same rules for every app's endpoints.

Subclass `HubAPIView` or the generic classes here and set `api_scope`, `read_permission` and
`write_permission`. What they add to DRF: rate limits (with RateLimit-* headers), the key cache
check, the audit actor, deprecation headers, Idempotency-Key on POST, ETag / If-None-Match on
reads and If-Match on writes of one object.
"""

import hashlib

from auditlog.context import auditlog_value
from django.utils.cache import patch_vary_headers
from rest_framework import exceptions, generics, mixins, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.views import APIView

from . import idempotency
from .authentication import KeyPrincipal, check_entry
from .exceptions import PreconditionFailed
from .keycache import cache as key_cache
from .metering import PendingHit
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
        """Counts the call in Redis. A read waits for Redis's answer only when its response is
        ready (overlapping the round trip with the database), a write before it acts."""
        self._pending = None
        user = request.user
        if user is None or not user.is_authenticated:
            return
        key = request.auth if isinstance(request.auth, KeyPrincipal) else None
        self._pending = PendingHit(tenant=request.tenant, principal=self._principal(request), key_id=key and key.id)
        if request.method not in SAFE_METHODS:
            self._settle(request)

    def _settle(self, request):
        """Reads the pending Redis answer: 429 past the limit; a key changed since this process
        cached it is checked afresh (401 if it no longer works)."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        state, versions = pending.result()
        request._request.rate_limit = state
        key = request.auth if isinstance(request.auth, KeyPrincipal) else None
        if key is not None and (versions is None or versions != key.entry.versions):
            entry = key_cache.load(request.tenant, key.entry.prefix, versions)
            membership = check_entry(entry, request._request.api_key_raw)
            request.auth = KeyPrincipal(entry)
            request.user = membership.user
            request._request.membership = membership
        if state is not None and state.exceeded:
            raise Throttled(wait=state.reset)

    def dispatch(self, request, *args, **kwargs):
        self._pending = None
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            if self._pending is not None:  # an unhandled error: drop the half-read connection
                self._pending.abandon()

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
        if getattr(self, "_pending", None) is not None:
            try:
                self._settle(request)
            except exceptions.APIException as exc:
                # The read's answer is dropped unsent: rate limited, or the key stopped working.
                response = self.handle_exception(exc)
        response = super().finalize_response(request, response, *args, **kwargs)
        state = getattr(request, "rate_limit", None)
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
        if request.method in ("GET", "HEAD") and response.status_code == 200 and hasattr(response, "render"):
            response.render()
            etag = _etag(response.content)
            response["ETag"] = etag
            if _etag_matches(request.headers.get("If-None-Match", ""), etag) and request.headers.get("If-None-Match"):
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
