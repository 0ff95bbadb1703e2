from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField

from ..models import Insight, ProjectKey
from ..queries.shapes import KINDS


def query_field(**kwargs):
    """A query's JSON object. Its fields are checked by the query engine, which refuses what does
    not hold with a 422 naming each field (query.series.0.math): rules an OpenAPI schema does not
    express."""
    return serializers.DictField(**kwargs)


class ProjectKeySerializer(HubModelSerializer):
    allowed_origins = serializers.ListField(
        child=StrictCharField(max_length=200),
        max_length=50,
        required=False,
        help_text='Origins a browser may send events from, e.g. "https://www.example.com"; "*" for any. '
        "Empty: server-side senders only.",
    )
    status = serializers.CharField(read_only=True)
    builtin = serializers.BooleanField(
        read_only=True,
        help_text="The dashboards' own page-view key, made by the platform: it cannot be revoked "
        "(switch page views off on the project keys page instead).",
    )

    class Meta:
        model = ProjectKey
        fields = ["id", "name", "prefix", "allowed_origins", "status", "builtin", "created", "revoked_at"]
        read_only_fields = ["id", "prefix", "status", "builtin", "created", "revoked_at"]
        extra_kwargs = {"name": {"min_length": 1, "max_length": 100}}


class ProjectKeyCreatedSerializer(ProjectKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The key to put in your site or app. Shown only in this response."
    )

    class Meta(ProjectKeySerializer.Meta):
        fields = [*ProjectKeySerializer.Meta.fields, "key"]


class InsightSerializer(HubModelSerializer):
    query = query_field(
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
    query = query_field(help_text="The query to run (the same JSON as an insight's query).")


class QueryAnswerSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(KINDS))
    source = serializers.ChoiceField(
        choices=["raw", "rollups"], help_text="Whether the answer came from the raw events or from rollups."
    )
    cached = serializers.BooleanField(help_text="Whether the answer came from the cache (no new events since).")
    result = serializers.JSONField(help_text="The answer; its shape depends on the kind (see the docs).")
