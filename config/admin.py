"""The platform admin (public site, operators only): its name, and the operator overview page, which
reads across every tenant's schema through each app's selectors."""

from django.conf import settings
from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import path
from django_tenants.utils import schema_context

from apps.events.selectors import outbox_trouble
from apps.identity.selectors import recent_signup_list
from apps.notifications.selectors import failed_delivery_count
from apps.tenancy.models import Tenant
from apps.tenancy.selectors import tenant_growth, tenant_list

admin.site.site_header = f"{settings.HUB_PLATFORM_NAME} operations"
admin.site.site_title = f"{settings.HUB_PLATFORM_NAME} operations"
admin.site.index_title = "Platform administration"
admin.site.index_template = "tenancy/admin/index.html"


def overview(request):
    """Tenants and their growth, recent sign-ups, and what needs an operator: failed event dispatches
    (Celery), failed webhook deliveries, events stuck in an outbox."""
    tenants = list(tenant_list())
    trouble = []
    for tenant in tenants:
        with schema_context(tenant.schema_name):
            row = {"tenant": tenant, **outbox_trouble(), "failed_deliveries": failed_delivery_count()}
        if row["stuck"] or row["failed_dispatches"] or row["failed_deliveries"]:
            trouble.append(row)
    growth = tenant_growth(weeks=8)
    peak = max([week["count"] for week in growth] + [1])
    context = {
        **admin.site.each_context(request),
        "title": "Operator overview",
        "tenant_count": len(tenants),
        "suspended_count": sum(t.status == Tenant.Status.SUSPENDED for t in tenants),
        "growth": [{**week, "percent": round(100 * week["count"] / peak)} for week in growth],
        "new_this_period": sum(week["count"] for week in growth),
        "signups": recent_signup_list(limit=10),
        "trouble": trouble,
        "totals": {
            key: sum(row[key] for row in trouble) for key in ("failed_dispatches", "failed_deliveries", "stuck")
        },
    }
    return TemplateResponse(request, "tenancy/admin/overview.html", context)


urlpatterns = [path("overview/", admin.site.admin_view(overview), name="admin_overview")]
