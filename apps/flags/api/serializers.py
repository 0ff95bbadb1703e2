from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import DeclaredProperty, Experiment, Flag, FlagVersion


class FlagSerializer(HubModelSerializer):
    filters = serializers.DictField(required=False, help_text="Condition groups, variants, payloads (PostHog's shape).")
    overrides = serializers.DictField(required=False, help_text="distinct id → true, false or a variant.")

    class Meta:
        model = Flag
        fields = [
            "id",
            "key",
            "name",
            "description",
            "active",
            "starts_at",
            "ends_at",
            "filters",
            "overrides",
            "version",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "version", "created", "updated"]
        extra_kwargs = {"key": {"validators": []}}  # the service says why a key is taken


class FlagVersionSerializer(HubModelSerializer):
    class Meta:
        model = FlagVersion
        fields = ["version", "definition", "note", "created"]


class RollbackSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class EvaluateSerializer(serializers.Serializer):
    distinct_id = serializers.CharField(max_length=200)
    properties = serializers.DictField(required=False, default=dict)
    groups = serializers.DictField(child=serializers.CharField(max_length=200), required=False, default=dict)
    group_properties = serializers.DictField(child=serializers.DictField(), required=False, default=dict)
    flags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, max_length=500)
    exposures = serializers.BooleanField(required=False, default=True)
    api_key = serializers.CharField(required=False, write_only=True)
    token = serializers.CharField(required=False, write_only=True)


class FlagAnswerSerializer(serializers.Serializer):
    value = serializers.JSONField(help_text="false, true, or the variant's key")
    enabled = serializers.BooleanField()
    variant = serializers.CharField(allow_null=True)
    payload = serializers.JSONField(allow_null=True)
    reason = serializers.CharField()


class EvaluateAnswerSerializer(serializers.Serializer):
    flags = serializers.DictField(child=FlagAnswerSerializer())


class LocalDefinitionsSerializer(serializers.Serializer):
    flags = serializers.ListField(child=serializers.DictField(), help_text="Each flag as PostHog's SDKs read it.")
    group_type_mapping = serializers.DictField(child=serializers.CharField())
    cohorts = serializers.DictField()


class ExperimentSerializer(HubModelSerializer):
    # An id, looked up by the view: an unknown one is a 422 naming the field (a rule, not the document's).
    flag = serializers.IntegerField(
        source="flag_id", min_value=1, help_text="The multivariate flag's id (variants “control” and others)."
    )
    flag_key = serializers.CharField(source="flag.key", read_only=True)
    primary_metric = serializers.DictField(
        help_text='{"kind": "funnel" | "count" | "mean", "event": goal event, "property": for "mean"}'
    )
    secondary_metrics = serializers.ListField(child=serializers.DictField(), required=False, max_length=10)
    baseline_rate = serializers.FloatField(required=False, help_text="Control's expected conversion rate, 0–1.")
    mde = serializers.FloatField(required=False, help_text="Minimum detectable effect, relative (0.1 = +10 %).")
    alpha = serializers.FloatField(required=False)
    power = serializers.FloatField(required=False)

    class Meta:
        model = Experiment
        fields = [
            "id",
            "name",
            "description",
            "flag",
            "flag_key",
            "primary_metric",
            "secondary_metrics",
            "baseline_rate",
            "mde",
            "alpha",
            "power",
            "target_per_variant",
            "status",
            "started_at",
            "ended_at",
            "shipped_variant",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "target_per_variant", "status", "started_at", "ended_at", "shipped_variant"]
        read_only_fields += ["created", "updated"]


class ShipSerializer(serializers.Serializer):
    variant = serializers.CharField(max_length=100, help_text="The variant to serve to everyone.")


class DeclaredPropertySerializer(HubModelSerializer):
    class Meta:
        model = DeclaredProperty
        fields = ["id", "kind", "key", "created"]
        read_only_fields = ["id", "created"]
        validators = []  # declaring a name twice keeps the one row (the service's get_or_create)
