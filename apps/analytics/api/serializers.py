from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField

from ..dashboards import RANGE_WORDS
from ..models import GRID_COLUMNS, TILE_MAX_HEIGHT, Cohort, Dashboard, DashboardTile, Insight, Person, ProjectKey
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
        choices=["raw", "rollup"], help_text="Whether the answer came from the raw events or from the rollups."
    )
    cached = serializers.BooleanField(help_text="Whether the answer came from the cache (no new events since).")
    result = serializers.JSONField(help_text="The answer; its shape depends on the kind (see the docs).")


class CohortSerializer(HubModelSerializer):
    kind = serializers.ChoiceField(
        choices=[("static", "static"), ("rules", "rules")],
        help_text="static: its members are listed by distinct id; rules: everyone who meets `filters` and "
        "`behaviours` when a query runs.",
    )
    filters = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=20,
        help_text='Person property filters (rules cohorts), as in a query: {"type": "person", "key": "plan", '
        '"op": "eq", "value": "team"}.',
    )
    behaviours = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        max_length=5,
        help_text='Rules cohorts: {"event": "purchase", "min_count": 2, "days": 30}: did the event at least '
        "min_count times in the last days.",
    )

    class Meta:
        model = Cohort
        fields = ["id", "name", "description", "kind", "filters", "behaviours", "created", "updated"]
        read_only_fields = ["id", "created", "updated"]
        extra_kwargs = {"name": {"min_length": 1, "max_length": 100}, "description": {"max_length": 2000}}


class CohortUpdateSerializer(CohortSerializer):
    kind = serializers.CharField(read_only=True, help_text="A cohort's kind stays what it was made as.")

    class Meta(CohortSerializer.Meta):
        extra_kwargs = {
            "name": {"min_length": 1, "max_length": 100, "required": False},
            "description": {"max_length": 2000, "required": False},
        }


class CohortMembersSerializer(serializers.Serializer):
    distinct_ids = serializers.ListField(
        child=StrictCharField(max_length=200, min_length=1), min_length=1, max_length=10_000
    )


class CohortMembersUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the service says what is wrong with an empty file (a 422)
        help_text="A CSV file: distinct ids in the first column (a header distinct_id is skipped).",
    )


class CohortMembersChangedSerializer(serializers.Serializer):
    changed = serializers.IntegerField(help_text="Distinct ids newly listed (add, upload) or taken off (remove).")


class PersonSerializer(HubModelSerializer):
    distinct_ids = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = ["id", "uuid", "distinct_ids", "properties", "created"]

    def get_distinct_ids(self, person) -> list[str]:
        return sorted(d.distinct_id for d in person.distinct_ids.all())


FILTERS_HELP = (
    'Filters added to every tile\'s query, as in a query: [{"type": "event", "key": "plan", "op": "eq", '
    '"value": "team"}].'
)


class DashboardTileSerializer(HubModelSerializer):
    insight = serializers.PrimaryKeyRelatedField(
        queryset=Insight.objects.all(), help_text="The saved insight the tile shows."
    )
    insight_name = serializers.CharField(source="insight.name", read_only=True)

    class Meta:
        model = DashboardTile
        fields = ["id", "insight", "insight_name", "title", "x", "y", "w", "h"]
        read_only_fields = ["id", "x", "y"]
        extra_kwargs = {
            "title": {"max_length": 100, "required": False, "help_text": "Shown instead of the insight's name."},
            "w": {"min_value": 1, "max_value": GRID_COLUMNS, "required": False, "help_text": "Columns (of 12)."},
            "h": {"min_value": 1, "max_value": TILE_MAX_HEIGHT, "required": False, "help_text": "Rows."},
        }


class DashboardTileCreateSerializer(serializers.Serializer):
    insight = serializers.IntegerField(min_value=1, help_text="The saved insight the tile shows.")
    title = StrictCharField(
        max_length=100, allow_blank=True, required=False, help_text="Shown instead of the insight's name."
    )
    w = serializers.IntegerField(min_value=1, max_value=GRID_COLUMNS, required=False, help_text="Columns (of 12).")
    h = serializers.IntegerField(min_value=1, max_value=TILE_MAX_HEIGHT, required=False, help_text="Rows.")


class DashboardTileUpdateSerializer(serializers.Serializer):
    title = StrictCharField(max_length=100, allow_blank=True, required=False)


class LayoutAnswerSerializer(serializers.Serializer):
    tiles = DashboardTileSerializer(many=True, help_text="Every tile of the dashboard where it now is.")


class DashboardSerializer(HubModelSerializer):
    date_range = serializers.ChoiceField(
        choices=list(RANGE_WORDS),
        required=False,
        help_text='Dates applied to every tile: "7d", "14d", "30d", "90d", "180d", "365d" (the last n days, '
        "up to today in the organisation's time zone), or \"\" for each insight's own.",
    )
    filters = serializers.ListField(child=serializers.DictField(), required=False, help_text=FILTERS_HELP)
    tiles = DashboardTileSerializer(many=True, read_only=True)

    class Meta:
        model = Dashboard
        fields = [
            "id",
            "name",
            "description",
            "date_range",
            "filters",
            "shared",
            "is_default",
            "tiles",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "shared", "is_default", "tiles", "created", "updated"]
        extra_kwargs = {"name": {"min_length": 1, "max_length": 100}, "description": {"max_length": 2000}}


class DashboardUpdateSerializer(DashboardSerializer):
    class Meta(DashboardSerializer.Meta):
        extra_kwargs = {
            "name": {"min_length": 1, "max_length": 100, "required": False},
            "description": {"max_length": 2000, "required": False},
        }


class LayoutItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="A tile of this dashboard.")
    x = serializers.IntegerField(help_text="Column, from 0 (of 12).")
    y = serializers.IntegerField(help_text="Row, from 0.")
    w = serializers.IntegerField(help_text="Columns wide.")
    h = serializers.IntegerField(help_text="Rows high.")


class LayoutSerializer(serializers.Serializer):
    layout = LayoutItemSerializer(many=True, help_text="Where each tile goes; none may overlap another.")


class ShareSerializer(serializers.Serializer):
    rotate = serializers.BooleanField(
        default=False, help_text="Give the link a new secret: links given out before stop working."
    )


class ShareLinkSerializer(serializers.Serializer):
    shared = serializers.BooleanField()
    url = serializers.CharField(help_text="The read-only link (no log-in needed); empty when not shared.")
