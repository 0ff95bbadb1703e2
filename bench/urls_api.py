"""The api_list benchmark's API server URLconf: the tenant site's own patterns, unchanged and at
the same depth as deployed (the API is the first of them), then the readiness ping."""

from django.urls import path

from bench.views import ping
from config import urls_tenant

urlpatterns = [*urls_tenant.urlpatterns, path("bench/ping/", ping)]

handler404 = urls_tenant.handler404
handler403 = urls_tenant.handler403
handler500 = urls_tenant.handler500
