"""bench.settings_api without tenant routing, for the plain DRF view's server: the benchmark's
URLconf (the plain list, then the readiness ping)."""

from bench.settings_api import *  # noqa: F403
from bench.settings_api import MIDDLEWARE

ROOT_URLCONF = "bench.urls_api_plain"
MIDDLEWARE = [m for m in MIDDLEWARE if m != "apps.tenancy.middleware.TenantRoutingMiddleware"]
