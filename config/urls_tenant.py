"""A tenant's site: the API, every hub app's pages, the accounts pages.

Each hub app's `urls.py` is mounted under the app's url_prefix (default "<label>/"; plugins at
plugins/<label>/), in INSTALLED_APPS order (apps.core.mounts): adding an app adds no line here.
"""

from django.urls import include, path

from apps.api.graphql.views import graphql
from apps.core.mounts import page_urlpatterns

urlpatterns = [
    # First: the API is the busiest path, and resolving it should not try every page before it.
    path("api/", include("apps.api.urls")),
    path("graphql/", graphql, name="graphql"),
    *page_urlpatterns(),
    path("accounts/", include("allauth.urls")),
]

handler404 = "apps.core.views.not_found"
handler403 = "apps.core.views.forbidden"
handler500 = "apps.core.views.server_error"
