"""The base of every API view: the same rules for every app's endpoints.

Subclass `HubAPIView` or the generic classes here and set `api_scope`, `read_permission` and
`write_permission`. What they add to DRF: the audit actor, deprecation headers, ETag /
If-None-Match on reads and If-Match on writes of one object, and two slots the integrator API
(apps.api) fills through settings:

- rate limits: DEFAULT_THROTTLE_CLASSES, checked right after authentication and before the
  permission check (a refused call counts too). A throttle with `response_headers()` adds them
  to every response of the call, the 429 included;
- idempotency: HUB_API_IDEMPOTENCY_CLASS (a dotted path; "" for none), a class whose
  `begin(request)` claims an authenticated POST's key before the view runs (returning a record,
  or raising apps.core.api.exceptions.Replay to answer with the first response) and whose
  `complete(record, response)` keeps the answer.
"""

import functools
import hashlib

from auditlog.context import auditlog_value
from django.conf import settings
from django.utils.cache import patch_vary_headers
from django.utils.module_loading import import_string
from rest_framework import generics, mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from ..plugins import enabled_here
from .exceptions import PreconditionFailed, Replay, Throttled
from .versioning import deprecation_headers


@functools.cache
def _hook(path: str):
    return import_string(path)() if path else None


def idempotency_hook():
    """The instance of settings.HUB_API_IDEMPOTENCY_CLASS (None when it is "")."""
    return _hook(settings.HUB_API_IDEMPOTENCY_CLASS)


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
    # (apps.core.api.schema.HubAutoSchema), e.g. (422,) for a read whose parameters a rule can refuse.
    problem_statuses: tuple[int, ...] = ()

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        self.perform_authentication(request)
        self.check_throttles(request)
        self.check_permissions(request)
        # A plugin's endpoint where it is not enabled: 404 (a method it never answers stays a 405).
        if hasattr(self, request.method.lower()) and not enabled_here(type(self).__module__):
            raise NotFound("This plugin is not enabled for this organisation.")
        self._set_audit_actor(request)
        self._idempotency_record = None
        if request.user is not None and request.user.is_authenticated:
            hook = idempotency_hook()
            if hook is not None:
                self._idempotency_record = hook.begin(request)

    def get_throttles(self):
        self._throttles = super().get_throttles()  # kept for their response headers
        return self._throttles

    def throttled(self, request, wait):
        raise Throttled(wait=wait)

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
        if isinstance(exc, Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        http = request._request  # attributes read through DRF's Request proxy cost ~10x more
        for throttle in getattr(self, "_throttles", ()):
            headers = getattr(throttle, "response_headers", None)
            if headers is not None:
                for name, value in headers().items():
                    response[name] = value
        for name, value in deprecation_headers(getattr(request, "version", None)).items():
            response[name] = value
        patch_vary_headers(response, ["Authorization"])
        record = getattr(self, "_idempotency_record", None)
        if record is not None:
            self._idempotency_record = None
            idempotency_hook().complete(record, response)
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


class HubModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    """List, read, add, change (PATCH only) and delete: the objects of one model."""

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]


__all__ = ["HubAPIView", "HubGenericAPIView", "HubGenericViewSet", "HubModelViewSet", "mixins"]
