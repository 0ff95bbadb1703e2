"""/api/v1/members/ and /api/v1/invitations/: list, change role, remove; invite, withdraw.
/api/v1/audit-log/: the organisation's audit log (read only), filterable by actor, action,
object and time."""

import django_filters
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, status
from rest_framework.response import Response

from apps.core.api.filters import HubFilterSet, IdFilter, IsoDateTimeFilter
from apps.core.api.views import HubGenericViewSet

from .. import services
from ..models import Invitation, Membership
from ..roles import Role
from ..selectors import invitation_pending_list, member_list
from .serializers import AuditEntrySerializer, InvitationSerializer, MemberSerializer, RoleChangeSerializer

ACTIONS = {label: value for value, label in LogEntry.Action.choices}


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


@extend_schema_field({"type": "string", "enum": list(ACTIONS)})
class ActionFilter(django_filters.ChoiceFilter):
    pass


class AuditFilter(HubFilterSet):
    actor = IdFilter(field_name="actor_id", help_text="User id of the actor.")
    actor_email = django_filters.CharFilter(lookup_expr="iexact", max_length=254)
    action = ActionFilter(choices=[(label, label) for label in ACTIONS], method="filter_action")
    object_type = django_filters.CharFilter(
        method="filter_object_type", max_length=200, help_text="`app_label.model`, e.g. identity.membership."
    )
    object_pk = django_filters.CharFilter(max_length=255)
    since = IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")

    class Meta:
        model = LogEntry
        fields = ["actor", "actor_email", "action", "object_type", "object_pk", "since", "until"]

    def filter_action(self, queryset, name, value):
        return queryset.filter(action=ACTIONS[value])

    def filter_object_type(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
        return queryset.filter(content_type=content_type) if content_type else queryset.none()


@extend_schema_view(
    list=extend_schema(summary="The audit log, newest first"),
    retrieve=extend_schema(summary="One audit entry"),
)
class AuditLogViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "audit"
    read_permission = "audit.view"
    serializer_class = AuditEntrySerializer
    filterset_class = AuditFilter
    ordering_fields = ["id", "timestamp"]
    ordering = ["-id"]

    def get_queryset(self):
        # The tenant's own schema holds its own log: other tenants' entries are not there.
        return LogEntry.objects.select_related("content_type").order_by("-id")
