"""A tenant's site: the dashboards and the accounts pages (API and websockets join later)."""

from django.urls import include, path

urlpatterns = [
    # First: the API is the busiest path, and resolving it should not try every page before it.
    path("api/", include("apps.api.urls")),
    path("", include("apps.identity.urls")),
    path("", include("apps.notifications.urls")),
    path("accounts/", include("allauth.urls")),
    path("developers/", include("apps.api.pages_urls")),
]

handler404 = "apps.core.views.not_found"
handler403 = "apps.core.views.forbidden"
handler500 = "apps.core.views.server_error"
