from django.db.models import QuerySet

from apps.tenancy.models import Tenant

from .models import Invitation, Membership, User


def membership_get(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("tenant", "user").filter(user=user, tenant=tenant).first()


def member_list(*, tenant: Tenant, ordered: bool = True) -> QuerySet[Membership]:
    """The tenant's memberships with their users, by email unless the caller orders them."""
    members = Membership.objects.filter(tenant=tenant).select_related("user")
    return members.order_by("user__email") if ordered else members


def invitation_pending_list(*, tenant: Tenant) -> QuerySet[Invitation]:
    return Invitation.objects.pending().filter(tenant=tenant).select_related("invited_by")


def user_tenant_list(*, user: User) -> QuerySet[Membership]:
    """The memberships behind the tenant switcher: active tenants only."""
    return (
        Membership.objects.filter(user=user, tenant__status=Tenant.Status.ACTIVE)
        .select_related("tenant")
        .order_by("tenant__name")
    )
