from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import Flag, FlagVersion


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
