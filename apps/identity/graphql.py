"""identity's GraphQL types (apps.api.graphql): members and invitations, over the selectors and
services of its REST endpoints (api/views.py), with the same scopes and permissions."""

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import Info, relay

from apps.core.graphql import Deleted, context, needs, pk_of

from . import services
from .api.serializers import InvitationSerializer
from .models import Invitation as InvitationModel
from .models import Membership
from .selectors import invitation_pending_list, member_list


@strawberry.type(description="A member of the organisation.")
class Member:
    id: strawberry.ID
    role: str = strawberry.field(description="owner, admin, member or viewer.")

    @strawberry.field
    def user_id(self: Membership) -> int:
        return self.user_id

    @strawberry.field
    def email(self: Membership) -> str:
        return self.user.email

    @strawberry.field
    def full_name(self: Membership) -> str:
        return self.user.full_name

    @strawberry.field
    def joined(self: Membership) -> datetime:
        return self.created


@strawberry.type(description="An invitation not yet accepted, withdrawn or expired.")
class Invitation:
    id: strawberry.ID
    email: str
    role: str
    created: datetime
    expires_at: datetime

    @strawberry.field
    def invited_by(self: InvitationModel) -> str | None:
        return self.invited_by.email if self.invited_by else None


def _members(info, role, email):
    members = member_list(tenant=context(info).tenant, ordered=False)
    if role:
        members = members.filter(role=role)
    if email:
        members = members.filter(user__email__icontains=email)
    return members.order_by("-id")


@strawberry.type
class IdentityQuery:
    @relay.connection(relay.ListConnection[Member], permission_classes=[needs("identity", "members.view")])
    def members(self, info: Info, role: str | None = None, email: str | None = None) -> Iterable[Member]:
        """The organisation's members, newest first (as GET /api/v1/members/)."""
        return _members(info, role, email)

    @strawberry.field(permission_classes=[needs("identity", "members.view")])
    def member(self, info: Info, id: strawberry.ID) -> Member | None:
        """One member (null: no such member here)."""
        return _members(info, None, None).filter(pk=pk_of(id)).first()

    @relay.connection(relay.ListConnection[Invitation], permission_classes=[needs("identity", "members.invite")])
    def invitations(self, info: Info) -> Iterable[Invitation]:
        """Pending invitations, newest first (as GET /api/v1/invitations/)."""
        return invitation_pending_list(tenant=context(info).tenant).order_by("-id")


@strawberry.type
class IdentityMutation:
    @strawberry.mutation(permission_classes=[needs("identity", "members.invite", write=True)])
    def invite_member(self, info: Info, email: str, role: str) -> Invitation:
        """Invite someone by email (sends the invitation email), as POST /api/v1/invitations/."""
        serializer = InvitationSerializer(data={"email": email, "role": role})
        serializer.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            actor=context(info).membership, email=serializer.validated_data["email"], role=role
        )
        return invitation

    @strawberry.mutation(permission_classes=[needs("identity", "members.invite", write=True)])
    def withdraw_invitation(self, info: Info, id: strawberry.ID) -> Deleted:
        """Withdraw a pending invitation, as DELETE /api/v1/invitations/{id}/."""
        invitation = invitation_pending_list(tenant=context(info).tenant).get(pk=pk_of(id))
        services.invitation_revoke(actor=context(info).membership, invitation=invitation)
        return Deleted(id=id)

    @strawberry.mutation(permission_classes=[needs("identity", "members.manage", write=True)])
    def change_member_role(self, info: Info, id: strawberry.ID, role: str) -> Member:
        """Change a member's role, as PATCH /api/v1/members/{id}/."""
        membership = _members(info, None, None).get(pk=pk_of(id))
        return services.membership_change_role(actor=context(info).membership, membership=membership, role=role)


ROOT_FIELDS = ("members", "member", "invitations", "inviteMember", "withdrawInvitation", "changeMemberRole")
