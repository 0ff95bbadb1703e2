"""bench.settings without tenant routing: the same stack minus TenantRoutingMiddleware, so every
request is served by ROOT_URLCONF in whatever schema the connection is in (the view uses none)."""

from bench.settings import *  # noqa: F403
from bench.settings import MIDDLEWARE

MIDDLEWARE = [m for m in MIDDLEWARE if m != "apps.tenancy.middleware.TenantRoutingMiddleware"]
