"""bench.settings_api without tenant routing: the plain DRF view's server."""

from bench.settings_api import *  # noqa: F403
from bench.settings_api import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m != "apps.tenancy.middleware.TenantRoutingMiddleware"]
