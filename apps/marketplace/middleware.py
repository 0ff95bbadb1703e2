from django.http import Http404

from apps.core.api.views import HubAPIMixin
from apps.core.plugins import enabled_here


class PluginGateMiddleware:
    """Pages of a plugin the tenant has not enabled answer 404, found by the view's app: the one
    check for every URL a plugin adds. Its API views (on core's API base) make the same check
    themselves, right after authentication, so a caller from elsewhere still gets its 401."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, HubAPIMixin):
            return None
        if not enabled_here(getattr(view_func, "__module__", "") or ""):
            raise Http404("This plugin is not enabled for this organisation.")
        return None
