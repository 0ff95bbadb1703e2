"""/api/v1/api-keys/ (admins): list, create (the secret is in the response, once), revoke;
/api/v1/usage/: calls per key per day."""

from datetime import UTC, date, datetime, timedelta

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api import scopes as scope_registry
from apps.core.api.exceptions import Unprocessable
from apps.core.api.filters import HubFilterSet
from apps.core.api.serializers import HubModelSerializer
from apps.core.api.views import HubGenericAPIView, HubGenericViewSet

from ..models import ApiKey
from ..selectors import api_key_last_used, api_key_list, api_usage_list
from ..services import api_key_create, api_key_revoke

MAX_USAGE_DAYS = 366


class ApiKeySerializer(HubModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=[]), min_length=1, max_length=64)
    status = serializers.CharField(read_only=True)
    last_used_at = serializers.SerializerMethodField()
    created_by = serializers.EmailField(source="created_by_email", read_only=True)

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "created",
            "created_by",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "prefix", "status", "created", "created_by", "last_used_at", "revoked_at"]
        extra_kwargs = {"name": {"min_length": 1, "max_length": 100}, "expires_at": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].child.choices = scope_registry.choices()

    def get_last_used_at(self, key) -> datetime | None:
        last_used = self.context.get("last_used", {})
        return last_used.get(key.pk, key.last_used_at)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The secret. Shown only in this response: store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


class ApiKeyFilter(HubFilterSet):
    status = django_filters.ChoiceFilter(choices=[("active", "active"), ("revoked", "revoked")], method="filter_status")

    class Meta:
        model = ApiKey
        fields = ["status"]

    def filter_status(self, queryset, name, value):
        return queryset.filter(revoked_at__isnull=value == "active")


@extend_schema_view(
    list=extend_schema(summary="List API keys"),
    retrieve=extend_schema(summary="One API key"),
    create=extend_schema(summary="Create an API key", responses={201: ApiKeyCreatedSerializer}),
    revoke=extend_schema(summary="Revoke an API key (it stops working at once)", request=None),
)
class ApiKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, HubGenericViewSet):
    api_scope = "api"
    read_permission = "api_keys.manage"
    write_permission = "api_keys.manage"
    serializer_class = ApiKeySerializer
    filterset_class = ApiKeyFilter
    ordering_fields = ["id", "created", "name"]
    ordering = ["-id"]

    def get_queryset(self):
        return api_key_list().order_by("-id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action in ("list", "retrieve"):
            context["last_used"] = api_key_last_used(keys=self.get_queryset())
        return context

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = api_key_create(
            actor=request.membership,
            name=serializer.validated_data["name"],
            scopes=serializer.validated_data["scopes"],
            expires_at=serializer.validated_data.get("expires_at"),
        )
        key.key = raw
        headers = {"Location": f"{request.path.rstrip('/')}/{key.pk}/", "Cache-Control": "no-store"}
        return Response(ApiKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED, headers=headers)

    @action(detail=True, methods=["post"])
    def revoke(self, request, *args, **kwargs):
        """A revoked key stays listed (with its usage) but never authenticates again."""
        key = api_key_revoke(actor=request.membership, key=self.get_object())
        return Response(ApiKeySerializer(key, context=self.get_serializer_context()).data)


class UsageSerializer(serializers.Serializer):
    key_id = serializers.IntegerField()
    key_prefix = serializers.CharField()
    day = serializers.DateField()
    calls = serializers.IntegerField()


class UsageQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text="First day (UTC), default 29 days ago.")
    until = serializers.DateField(required=False, help_text="Last day (UTC), default today.")
    key = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1, help_text="One key's id.")

    def to_internal_value(self, data):
        empty = [name for name in self.fields if data.get(name) == ""]
        if empty:
            raise serializers.ValidationError({name: ["Give a value or leave the parameter out."] for name in empty})
        return super().to_internal_value(data)


def _usage_days(*, since: date | None, until: date | None) -> tuple[date, date]:
    """The days asked for (default: the 30 days up to today, UTC); 422 for a range that is
    backwards or longer than MAX_USAGE_DAYS (rules the parameters' schema cannot express)."""
    until = until or datetime.now(UTC).date()
    since = since or (until - timedelta(days=29) if until.toordinal() > 29 else date.min)
    if since > until:
        raise Unprocessable({"since": ["Must not be after until."]})
    if (until - since).days >= MAX_USAGE_DAYS:
        raise Unprocessable({"since": [f"Ask for at most {MAX_USAGE_DAYS} days at a time."]})
    return since, until


class UsageView(HubGenericAPIView):
    api_scope = "api"
    read_permission = "api_keys.manage"
    serializer_class = UsageSerializer
    pagination_class = None
    filter_backends = []
    problem_statuses = (422,)

    @extend_schema(
        operation_id="usage_list",
        summary="Calls per key per day (UTC), newest first",
        parameters=[UsageQuerySerializer],
        responses={200: UsageSerializer(many=True)},
    )
    def get(self, request, *args, **kwargs):
        query = UsageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since, until = _usage_days(since=query.validated_data.get("since"), until=query.validated_data.get("until"))
        rows = api_usage_list(since=since, until=until, key_id=query.validated_data.get("key"))
        return Response(UsageSerializer(rows, many=True).data)
