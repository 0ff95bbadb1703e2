from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField

from ..models import ProjectKey


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
