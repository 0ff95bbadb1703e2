from functools import cache

from django.apps import apps
from django.http import Http404

from apps.core.registry import registry


@cache
def _plugin_of_module(module: str) -> str:
    config = apps.get_containing_app_config(module) if module else None
    return config.label if config is not None and config.label in registry["plugins"] else ""


class PluginGateMiddleware:
    """Pages and API routes of a plugin the tenant has not enabled answer 404 (problem+json under
    /api/), found by the view's app: the one check for every URL a plugin adds."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        plugin = _plugin_of_module(getattr(view_func, "__module__", "") or "")
        if plugin and plugin not in registry.enabled_plugins():
            raise Http404("This plugin is not enabled for this organisation.")
        return None
