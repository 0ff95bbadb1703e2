"""The tenant site with the benchmark's trivial page in front."""

from django.urls import include, path

from bench.views import ping, work

urlpatterns = [
    path("bench/ping/", ping),
    path("bench/work/", work),
    path("", include("config.urls_tenant")),
]

handler404 = "apps.core.views.not_found"
handler403 = "apps.core.views.forbidden"
handler500 = "apps.core.views.server_error"
