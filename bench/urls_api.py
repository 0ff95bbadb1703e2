"""The api_list benchmark's URLconf: the plain DRF list, then bench.urls (ping, tenant site)."""

from django.urls import include, path

from bench.views_api import PlainMemberList

urlpatterns = [
    path("bench/plain-members/", PlainMemberList.as_view()),
    path("", include("bench.urls")),
]

handler404 = "apps.core.views.not_found"
handler403 = "apps.core.views.forbidden"
handler500 = "apps.core.views.server_error"
