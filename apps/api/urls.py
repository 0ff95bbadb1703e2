"""/api/: the v1 router and the schema.

/api/v1/ mounts every installed hub app's API the same way (apps.core.mounts): its `api/urls.py`
under /api/v1/<its api_prefix> (default "<label>/"; plugins under /api/v1/plugins/<label>/).
tenancy, identity and this app mount theirs at the root (api_prefix "").
"""

from django.urls import URLResolver, include, re_path

from apps.core.mounts import api_urlpatterns

from .docs import SchemaView

app_name = "api"


def flattened(patterns: list) -> list:
    """`patterns` with each include at the empty prefix (no namespace, no extra kwargs) replaced by
    the patterns it includes: the same URLs, one level less to resolve on every call."""
    flat = []
    for pattern in patterns:
        if (
            isinstance(pattern, URLResolver)
            and str(pattern.pattern) == ""
            and pattern.namespace is None
            and pattern.app_name is None
            and not pattern.default_kwargs
        ):
            flat.extend(flattened(pattern.url_patterns))
        else:
            flat.append(pattern)
    return flat


v1 = flattened(api_urlpatterns())

urlpatterns = [
    re_path(r"^(?P<version>v[0-9]+)/schema/$", SchemaView.as_view(), name="schema"),
    re_path(r"^(?P<version>v[0-9]+)/", include(v1)),
]
