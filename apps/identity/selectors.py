from django.db import connection
from django.db.models import QuerySet

from apps.core.memo import memoized
from apps.tenancy.models import Tenant

from .models import Invitation, Membership, User
from .roles import Role


def membership_get(*, user: User, tenant: Tenant) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.select_related("tenant", "user").filter(user=user, tenant=tenant).first()


LAST_OWNER_LEAVING = "You are the only owner. Make someone else an owner before you leave."


def leave_blocker(*, membership: Membership) -> str:
    """Why the member cannot leave the organisation ("" if they can): its last owner stays."""
    if membership.role == Role.OWNER and not (
        Membership.objects.filter(tenant_id=membership.tenant_id, role=Role.OWNER).exclude(pk=membership.pk).exists()
    ):
        return LAST_OWNER_LEAVING
    return ""


def can_leave(*, membership: Membership) -> bool:
    return not leave_blocker(membership=membership)


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


def user_name(user_id: int | None, *, fallback: str = "") -> str:
    """A person's name as people read it (their email if they gave no name; `fallback` when the
    account is gone); read once per memo scope (one dispatch, one page of the activity feed)."""
    if not user_id:
        return fallback
    found = memoized(("user_name", user_id), lambda: User.objects.filter(pk=user_id).first())
    return found.get_full_name() if found is not None else fallback
