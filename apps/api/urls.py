"""/api/: the v1 router and the schema.

/api/v1/ mounts the foundation's endpoints (apps.api.endpoints) and every installed hub app's
`api/urls.py` under /api/v1/<its api_prefix> (default "<label>/"; plugins under
/api/v1/plugins/<label>/), by apps.core.mounts.
"""

from django.urls import include, re_path

from apps.core.mounts import api_urlpatterns

from .docs import SchemaView
from .endpoints.urls import urlpatterns as endpoint_urls

app_name = "api"

# The foundation's patterns inline, not in an include: one level less to resolve on every call.
v1 = [*endpoint_urls, *api_urlpatterns()]

urlpatterns = [
    re_path(r"^(?P<version>v[0-9]+)/schema/$", SchemaView.as_view(), name="schema"),
    re_path(r"^(?P<version>v[0-9]+)/", include(v1)),
]
