"""/api/: the v1 router and the schema.

/api/v1/ mounts the foundation's endpoints (apps.api.endpoints) and, for every installed app
(apps.* and plugins.*) that has an `api/urls.py`, that module under /api/v1/<app label>/
(plugins under /api/v1/plugins/<label>/).
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.urls import include, path, re_path

from .docs import SchemaView
from .endpoints.urls import urlpatterns as endpoint_urls

app_name = "api"


def _app_api_urls():
    mounted = []
    for config in apps.get_app_configs():
        if config.name == "apps.api" or not config.name.startswith(("apps.", "plugins.")):
            continue
        module = f"{config.name}.api.urls"
        try:
            found = find_spec(module)
        except ModuleNotFoundError:
            found = None
        if found is None:
            continue
        base = f"plugins/{config.label}/" if config.name.startswith("plugins.") else f"{config.label}/"
        mounted.append(path(base, include(import_module(module))))
    return mounted


# The foundation's patterns inline, not in an include: one level less to resolve on every call.
v1 = [*endpoint_urls, *_app_api_urls()]

urlpatterns = [
    re_path(r"^(?P<version>v[0-9]+)/schema/$", SchemaView.as_view(), name="schema"),
    re_path(r"^(?P<version>v[0-9]+)/", include(v1)),
]
