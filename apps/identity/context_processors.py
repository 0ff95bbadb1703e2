from django.conf import settings

from apps.core.registry import registry

from .mfa import tenant_security_get
from .roles import has_permission
from .selectors import membership_get, user_tenant_list


def shell(request):
    """What the base layout draws: the platform's name, the navigation the member may see and the
    tenant switcher; on a tenant's host, whether it offers single sign-on (its log-in page)."""
    named = {"platform_name": settings.HUB_PLATFORM_NAME}
    tenant = getattr(request, "tenant", None)
    if tenant is not None and not tenant.is_public:
        # Read only by the log-in page (a callable: the template asks; the policy is cached).
        named["tenant_sso_on"] = lambda: tenant_security_get(tenant=tenant).sso_enabled
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
