from apps.core.registry import registry

from .roles import has_permission
from .selectors import membership_get, user_tenant_list


def shell(request):
    """What the base layout draws: the navigation the member may see and the tenant switcher."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.is_public or user is None or not user.is_authenticated:
        return {}
    membership = getattr(request, "membership", None) or membership_get(user=user, tenant=tenant)
    if membership is None:
        return {}
    return {
        "membership": membership,
        "nav_items": [i for i in registry.nav_items() if has_permission(membership.role, i.permission)],
        "switcher": user_tenant_list(user=user),
    }
