from urllib.parse import urlencode

from django.db import connection
from django.db.models import Q, QuerySet
from django.urls import reverse

from apps.core.caching import cached_selector
from apps.core.memo import memoized
from apps.core.registry import ChecklistItem, SearchResult, Widget, registry
from apps.tenancy.models import Tenant

from .models import Invitation, Membership, User
from .roles import Role, has_permission


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


def user_name(user_id: int | None, *, fallback: str = "") -> str:
    """A person's name as people read it (their email if they gave no name; `fallback` when the
    account is gone); read once per memo scope (one dispatch, one page of the activity feed)."""
    if not user_id:
        return fallback
    found = memoized(("user_name", user_id), lambda: User.objects.filter(pk=user_id).first())
    return found.get_full_name() if found is not None else fallback


# --- The home page -----------------------------------------------------------------------------


def home_widgets(*, membership: Membership) -> tuple[list[Widget], list[Widget]]:
    """The widgets this member's role may see, as (shown in their order, hidden). Widgets the
    member never placed (new ones) follow the placed ones, by weight."""
    allowed = {w.key: w for w in registry.widgets() if has_permission(membership.role, w.permission)}
    layout = membership.home_layout or {}
    order = [k for k in layout.get("order", []) if k in allowed]
    order += [k for k in allowed if k not in order]
    hidden = set(layout.get("hidden", []))
    return [allowed[k] for k in order if k not in hidden], [allowed[k] for k in order if k in hidden]


def checklist(*, membership: Membership) -> list[tuple[ChecklistItem, bool]]:
    """The getting-started steps this member's role can take, each with whether it is done."""
    return [
        (item, bool(item.done(tenant=membership.tenant, user=membership.user)))
        for item in registry.checklist_items()
        if has_permission(membership.role, item.permission)
    ]


@cached_selector(topics=("member", "invitation"))
def someone_invited(*, tenant: Tenant, user=None) -> bool:
    """Done when the organisation has a second member or has sent an invitation."""
    return Invitation.objects.filter(tenant=tenant).exists() or Membership.objects.filter(tenant=tenant).count() > 1


def recent_signup_list(*, limit: int = 10) -> list[User]:
    """The newest accounts, each with the organisations it belongs to (`memberships`)."""
    return list(User.objects.order_by("-date_joined").prefetch_related("memberships__tenant")[:limit])


def seats_used(*, tenant: Tenant, pending: bool = False) -> int:
    """The tenant's members (with `pending`, plus its pending invitations: seats they will take)."""
    used = Membership.objects.filter(tenant=tenant).count()
    return used + (invitation_pending_list(tenant=tenant).count() if pending else 0)
