from urllib.parse import urlencode

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.core.memo import memoized
from apps.core.registry import SearchResult
from apps.tenancy.models import Tenant

from .models import Invitation, Membership, User
from .roles import Role


def membership_get(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("tenant", "user").filter(user=user, tenant=tenant).first()


def member_list(*, tenant: Tenant, ordered: bool = True) -> QuerySet[Membership]:
    """The tenant's memberships with their users, by email unless the caller orders them."""
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    return members.order_by("user__email") if ordered else members


def member_search(*, query: str, tenant: Tenant, user: User, limit: int) -> list[SearchResult]:
    """The command palette's members (search provider): by name or email, one query."""
    found = (
        member_list(tenant=tenant, ordered=False)
        .filter(Q(user__email__icontains=query) | Q(user__full_name__icontains=query))
        .order_by("user__email")[:limit]
    )
    page = reverse("members")
    return [
        SearchResult(
            m.user.get_full_name(),
            f"{page}?{urlencode({'q': m.user.email})}",
            f"{m.user.email} · {m.get_role_display()}",
        )
        for m in found
    ]


def invitation_pending_list(*, tenant: Tenant) -> QuerySet[Invitation]:
    return Invitation.objects.pending().filter(tenant=tenant).select_related("invited_by")


def user_tenant_list(*, user: User) -> QuerySet[Membership]:
    """The memberships behind the tenant switcher: active tenants only."""
    return (
        Membership.objects.filter(user=user, tenant__status=Tenant.Status.ACTIVE)
        .select_related("tenant")
        .order_by("tenant__name")
    )


def event_admin_ids(event=None) -> list[int]:
    """The user ids of the owners and admins of the tenant being served (the people told about
    an event that concerns the organisation); read once per memo scope (one dispatch)."""
    tenant_id = connection.tenant.pk
    return memoized(
        ("tenant_admin_ids", tenant_id),
        lambda: list(
            Membership.objects.filter(tenant_id=tenant_id, role__in=[Role.OWNER, Role.ADMIN]).values_list(
                "user_id", flat=True
            )
        ),
    )
