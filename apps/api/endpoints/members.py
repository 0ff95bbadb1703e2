"""/api/v1/members/ and /api/v1/invitations/: list, change role, remove; invite, withdraw."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from apps.identity import services
from apps.identity.models import Invitation, Membership
from apps.identity.roles import Role
from apps.identity.selectors import invitation_pending_list, member_list

from ..filters import HubFilterSet
from ..serializers import HubModelSerializer
from ..views import HubGenericViewSet


class MemberSerializer(HubModelSerializer):
    user_id = serializers.IntegerField(source="user.pk", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    joined = serializers.DateTimeField(source="created", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "full_name", "role", "joined"]
        read_only_fields = ["id"]


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False, help_text="Left out: nothing changes.")


class MemberFilter(HubFilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    email = django_filters.CharFilter(field_name="user__email", lookup_expr="icontains", max_length=254)

    class Meta:
        model = Membership
        fields = ["role", "email"]


@extend_schema_view(
    list=extend_schema(summary="List members"),
    retrieve=extend_schema(summary="One member"),
    partial_update=extend_schema(summary="Change a member's role", request=RoleChangeSerializer),
    destroy=extend_schema(summary="Remove a member (or leave, for yourself)"),
)
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "identity"
    read_permission = "members.view"
    serializer_class = MemberSerializer
    filterset_class = MemberFilter
    ordering_fields = ["id", "created", "role"]
    ordering = ["-id"]
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def required_permission(self, request):
        if request.method == "PATCH":
            return "members.manage"
        if request.method == "DELETE":
            return "tenant.view"  # anyone may leave; removing others is checked by the service
        return None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Membership.objects.none()
        # Only this tenant's memberships: another tenant's ids are simply not found. The ordering
        # filter and the cursor pagination order them.
        return member_list(tenant=self.request.tenant, ordered=False)

    def partial_update(self, request, *args, **kwargs):
        membership = self.get_object()
        payload = RoleChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        self.check_precondition(membership)
        if "role" in payload.validated_data:
            membership = services.membership_change_role(
                actor=request.membership, membership=membership, role=payload.validated_data["role"]
            )
        return Response(MemberSerializer(membership).data)

    def perform_destroy(self, instance):
        self.check_precondition(instance)
        services.membership_remove(actor=self.request.membership, membership=instance)


class InvitationSerializer(HubModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created", "expires_at"]
        read_only_fields = ["id", "invited_by", "created", "expires_at"]
        extra_kwargs = {"role": {"required": True}}


class InvitationFilter(HubFilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    email = django_filters.CharFilter(lookup_expr="icontains", max_length=254)

    class Meta:
        model = Invitation
        fields = ["role", "email"]


@extend_schema_view(
    list=extend_schema(summary="List pending invitations"),
    retrieve=extend_schema(summary="One pending invitation"),
    create=extend_schema(summary="Invite someone by email (sends the invitation email)"),
    destroy=extend_schema(summary="Withdraw an invitation"),
)
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    api_scope = "identity"
    read_permission = "members.invite"
    write_permission = "members.invite"
    serializer_class = InvitationSerializer
    filterset_class = InvitationFilter
    ordering_fields = ["id", "created", "expires_at"]
    ordering = ["-id"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return invitation_pending_list(tenant=self.request.tenant).order_by("-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation, _token = services.invitation_create(
            actor=request.membership, email=serializer.validated_data["email"], role=serializer.validated_data["role"]
        )
        headers = {"Location": f"{request.path.rstrip('/')}/{invitation.pk}/"}
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED, headers=headers)

    def perform_destroy(self, instance):
        self.check_precondition(instance)
        services.invitation_revoke(actor=self.request.membership, invitation=instance)
