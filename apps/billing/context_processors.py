"""The near-limit banner of the dashboards: for owners and admins, the quantities at 80 % of the
plan's limit or more, read when the layout draws it, from a cached selector."""

from django.utils.functional import SimpleLazyObject

from apps.identity.roles import has_permission

from . import selectors


def plan_limits(request):
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}

    def near():
        membership = getattr(request, "membership", None)
        if membership is None or not has_permission(membership.role, "billing.manage"):
            return []
        return selectors.limits_near(tenant=tenant)

    return {"plan_limits_near": SimpleLazyObject(near)}
