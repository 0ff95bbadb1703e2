"""The OpenAPI schema (/api/v1/schema/) and its documentation pages (/developers/docs/ Swagger
UI, /developers/redoc/ Redoc), served from vendored assets (drf-spectacular-sidecar). The pages
are HTML, so they live outside /api/."""

import threading

from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.core.api.versioning import deprecation_headers

_lock = threading.Lock()
_schemas: dict[str, dict] = {}

# Swagger UI and Redoc inject inline styles (Redoc also runs a blob: web worker); scripts stay
# 'self' only, and nothing is loaded from elsewhere.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'"
)


class SchemaView(SpectacularAPIView):
    """The OpenAPI 3 schema of a version, as JSON; public (it holds no tenant data)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    renderer_classes = [JSONRenderer]

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        version = request.version
        with _lock:
            schema = _schemas.get(version)
        if schema is None:
            generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
            schema = generator.get_schema(request=None, public=True)
            with _lock:
                _schemas[version] = schema
        # The API is served on the organisation's own host: examples and "try it" calls go there.
        servers = [{"url": request.build_absolute_uri("/").rstrip("/"), "description": request.tenant.name}]
        first = {key: schema[key] for key in ("openapi", "info") if key in schema}
        return Response({**first, "servers": servers, **schema}, headers=deprecation_headers(version))


def _schema_url(request):
    return reverse("api:schema", kwargs={"version": "v1"})


def swagger(request):
    response = render(request, "api/swagger.html", {"schema_url": _schema_url(request)})
    response["Content-Security-Policy"] = DOCS_CSP
    return response


def redoc(request):
    response = render(request, "api/redoc.html", {"schema_url": _schema_url(request)})
    response["Content-Security-Policy"] = DOCS_CSP
    return response
