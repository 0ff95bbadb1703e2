from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.shortcuts import render

from apps.core.http import problem, wants_problem_json

from .context import activate
from .routing import routes

MAX_REMEMBERED_HOSTS = 10_000


class TenantRoutingMiddleware:
    """Picks the tenant from the Host header and enters its schema.

    The bare base domain is the public site; `<slug>.<base domain>` a tenant. An unknown host
    gets a friendly 404 page; a suspended tenant a 403 page (problem+json under /api/).

    This runs on every request, so it is lean: the tenant comes from the in-process route cache,
    a Host header already validated is remembered, and the schema is switched only when the
    connection is in another one.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response
        self._hostnames: dict[str, str] = {}  # raw Host header → validated host name
        self._remember = not settings.USE_X_FORWARDED_HOST

    def __call__(self, request):
        return self.route(request) or self.get_response(request)

    def _hostname(self, request) -> str:
        raw = request.META.get("HTTP_HOST", "")
        hostname = self._hostnames.get(raw)
        if hostname is None:
            hostname = request.get_host().rsplit(":", 1)[0].lower()  # validates against ALLOWED_HOSTS
            if self._remember and raw and len(self._hostnames) < MAX_REMEMBERED_HOSTS:
                self._hostnames[raw] = hostname
        return hostname

    def route(self, request):
        try:
            hostname = self._hostname(request)
        except DisallowedHost:
            return self._unknown_host(request, "")
        tenant = routes.tenant_for_host(hostname)
        if tenant is None:
            return self._unknown_host(request, hostname)

        request.tenant = tenant
        activate(tenant)
        if tenant.is_public:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
        elif not tenant.is_active:
            if wants_problem_json(request):
                return problem(403, f"{tenant.name} is suspended.", "tenant_suspended")
            return render(request, "tenancy/suspended.html", {"tenant": tenant}, status=403)
        return None

    @staticmethod
    def _unknown_host(request, hostname):
        if wants_problem_json(request):
            return problem(404, f"No organisation is served at {hostname or 'this address'}.", "unknown_host")
        base_url = f"{settings.HUB_SCHEME}://{settings.HUB_BASE_DOMAIN}/"
        return render(request, "tenancy/unknown_host.html", {"hostname": hostname, "base_url": base_url}, status=404)
