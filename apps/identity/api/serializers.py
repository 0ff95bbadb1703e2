"""What the members, invitations and audit-log endpoints read and write."""

from auditlog.models import LogEntry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import Invitation, Membership
from ..roles import Role

ACTION_LABELS = dict(LogEntry.Action.choices)


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


class InvitationSerializer(HubModelSerializer):
    invited_by = serializers.EmailField(source="invited_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "invited_by", "created", "expires_at"]
        read_only_fields = ["id", "invited_by", "created", "expires_at"]
        extra_kwargs = {"role": {"required": True}}


class AuditEntrySerializer(HubModelSerializer):
    action = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    actor_id = serializers.IntegerField(read_only=True, allow_null=True)
    actor_email = serializers.CharField(read_only=True, allow_null=True)
    changes = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "timestamp",
            "action",
            "object_type",
            "object_pk",
            "object_repr",
            "actor_id",
            "actor_email",
            "remote_addr",
            "changes",
        ]

    def get_action(self, entry) -> str:
        return ACTION_LABELS.get(entry.action, str(entry.action))

    def get_object_type(self, entry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_changes(self, entry):
        return entry.changes if isinstance(entry.changes, dict) else {}
