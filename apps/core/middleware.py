import zoneinfo

from django.conf import settings
from django.utils import timezone


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy of settings.HUB_CSP on every response that lacks one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.HUB_CSP)
        return response


class TimeZoneMiddleware:
    """Activates the viewer's time zone for the request: the user's own (user.time_zone), else the
    organisation's (tenant.time_zone), else UTC. Dates in templates (and {% time %}) then read in
    it. An unknown zone name counts as unset."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = request_time_zone(request)
        timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _zone(name) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(str(name))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def request_time_zone(request) -> zoneinfo.ZoneInfo:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and (zone := _zone(getattr(user, "time_zone", None))):
        return zone
    if zone := _zone(getattr(getattr(request, "tenant", None), "time_zone", None)):
        return zone
    return zoneinfo.ZoneInfo("UTC")
