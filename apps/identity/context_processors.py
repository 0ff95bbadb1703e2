from django.conf import settings

from apps.core.registry import registry

from .roles import has_permission
from .selectors import membership_get, user_tenant_list


def shell(request):
    """What the base layout draws: the platform's name, the navigation the member may see and the
    tenant switcher."""
    named = {"platform_name": settings.HUB_PLATFORM_NAME}
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return named
    membership = getattr(request, "membership", None) or membership_get(user=user, tenant=tenant)
    if membership is None:
        return named
    return {
        **named,
        "membership": membership,
        "nav_items": [i for i in registry.nav_items() if has_permission(membership.role, i.permission)],
        "switcher": user_tenant_list(user=user),
    }
