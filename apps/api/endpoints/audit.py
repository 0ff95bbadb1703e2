"""/api/v1/audit-log/: the organisation's audit log (read only), filterable by actor, action,
object and time."""

import django_filters
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from ..filters import HubFilterSet, IdFilter, IsoDateTimeFilter
from ..serializers import HubModelSerializer
from ..views import HubGenericViewSet

ACTIONS = {label: value for value, label in LogEntry.Action.choices}
ACTION_LABELS = dict(LogEntry.Action.choices)


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
