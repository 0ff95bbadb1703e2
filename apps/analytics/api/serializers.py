from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField

from ..models import Insight, ProjectKey
from ..queries.shapes import query_parse


class QueryField(serializers.JSONField):
    """A query's JSON, checked: errors name the field inside it (query.series.0.math)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        try:
            query_parse(data)
        except DjangoValidationError as exc:
            errors = exc.message_dict
            raise serializers.ValidationError(errors["query"] if list(errors) == ["query"] else errors) from None
        return data


class ProjectKeySerializer(HubModelSerializer):
    allowed_origins = serializers.ListField(
        child=StrictCharField(max_length=200),
        max_length=50,
        required=False,
        help_text='Origins a browser may send events from, e.g. "https://www.example.com"; "*" for any. '
        "Empty: server-side senders only.",
    )
    status = serializers.CharField(read_only=True)

    class Meta:
        model = ProjectKey
        fields = ["id", "name", "prefix", "allowed_origins", "status", "created", "revoked_at"]
        read_only_fields = ["id", "prefix", "status", "created", "revoked_at"]
        extra_kwargs = {"name": {"min_length": 1, "max_length": 100}}


class ProjectKeyCreatedSerializer(ProjectKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The key to put in your site or app. Shown only in this response."
    )

    class Meta(ProjectKeySerializer.Meta):
        fields = [*ProjectKeySerializer.Meta.fields, "key"]


class InsightSerializer(HubModelSerializer):
    query = QueryField(
        help_text='The query, e.g. {"kind": "trends", "date_from": "2026-11-01", "date_to": "2026-11-30", '
        '"series": [{"event": "signed_up"}]}. See docs/apps/analytics.md for every kind and field.'
    )

    class Meta:
        model = Insight
        fields = ["id", "name", "description", "query", "created", "updated"]
        read_only_fields = ["id", "created", "updated"]
        extra_kwargs = {"name": {"min_length": 1, "max_length": 100}, "description": {"max_length": 2000}}


class InsightUpdateSerializer(InsightSerializer):
    class Meta(InsightSerializer.Meta):
        extra_kwargs = {
            "name": {"min_length": 1, "max_length": 100, "required": False},
            "description": {"max_length": 2000, "required": False},
            "query": {"required": False},
        }


class QueryRequestSerializer(serializers.Serializer):
    query = QueryField(help_text="The query to run (the same JSON as an insight's query).")


class QueryAnswerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["trends", "funnel", "retention", "stickiness", "lifecycle"])
    source = serializers.ChoiceField(
        choices=["raw", "rollups"], help_text="Whether the answer came from the raw events or from rollups."
    )
    cached = serializers.BooleanField(help_text="Whether the answer came from the cache (no new events since).")
    result = serializers.JSONField(help_text="The answer; its shape depends on the kind (see the docs).")
