from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.shortcuts import render
from django_tenants.middleware.main import TenantMainMiddleware

from apps.core.http import problem, wants_problem_json

from .context import activate
from .routing import routes


class TenantRoutingMiddleware(TenantMainMiddleware):
    """Picks the tenant from the Host header and enters its schema.

    The bare base domain is the public site; `<slug>.<base domain>` a tenant. An unknown host
    gets a friendly 404 page; a suspended tenant a 403 page (problem+json under /api/).
    """

    def process_request(self, request):
        base = {"base_url": f"{settings.HUB_SCHEME}://{settings.HUB_BASE_DOMAIN}/"}
        try:
            hostname = self.hostname_from_request(request).lower()
        except DisallowedHost:
            return render(request, "tenancy/unknown_host.html", {"hostname": "", **base}, status=404)

        tenant = routes.tenant_for_host(hostname)
        if tenant is None:
            if wants_problem_json(request):
                return problem(404, "Not found", f"No organisation is served at {hostname}.")
            return render(request, "tenancy/unknown_host.html", {"hostname": hostname, **base}, status=404)

        request.tenant = tenant
        activate(tenant)
        if tenant.is_public:
            request.urlconf = settings.PUBLIC_SCHEMA_URLCONF
            return None
        request.urlconf = settings.ROOT_URLCONF
        if not tenant.is_active:
            if wants_problem_json(request):
                return problem(403, "Organisation suspended", f"{tenant.name} is suspended.")
            return render(request, "tenancy/suspended.html", {"tenant": tenant}, status=403)
        return None
