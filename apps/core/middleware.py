import time
import zoneinfo

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.utils import timezone

from apps.core import replicas


def csp_with_form_action(*origins: str) -> str:
    """settings.HUB_CSP with `origins` added to form-action, for a page whose form is answered by
    a redirect there (browsers hold the redirect of a form's submission to form-action too)."""
    directives = [d.strip() for d in settings.HUB_CSP.split(";")]
    return "; ".join(" ".join([d, *origins]) if d.startswith("form-action") else d for d in directives)


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


class ReplicaMiddleware:
    """Read replicas for requests (apps.core.replicas): a GET, HEAD or OPTIONS request of someone
    not pinned to the primary may read from a replica; any other request reads and writes the
    primary and, when it succeeds, pins whoever made it to the primary for
    HUB_DATABASE_REPLICA_PIN_SECONDS (a Redis marker for a user or API key, a cookie for a browser),
    so they read their own writes. Not used at all without replicas."""

    SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __init__(self, get_response):
        if not replicas.replica_aliases():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        safe = request.method in self.SAFE_METHODS
        identity = replicas.pin_identity(request)
        pinned = False
        if safe:
            try:
                pinned = float(request.COOKIES.get(replicas.PIN_COOKIE, "0")) > time.time()
            except ValueError:
                pinned = False
            pinned = pinned or replicas.is_pinned(identity)
        with replicas.request_reads(safe=safe, pinned=pinned):
            response = self.get_response(request)
        if not safe and response.status_code < 400:
            seconds = settings.HUB_DATABASE_REPLICA_PIN_SECONDS
            replicas.pin(identity, seconds)
            response.set_cookie(
                replicas.PIN_COOKIE,
                f"{time.time() + seconds:.3f}",
                max_age=max(1, int(seconds + 0.999)),
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response
