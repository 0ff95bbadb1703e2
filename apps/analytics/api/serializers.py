from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer

from ..models import ProjectKey


class ProjectKeySerializer(HubModelSerializer):
    allowed_origins = serializers.ListField(
        child=serializers.CharField(max_length=200),
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


# --- Capture (for the OpenAPI document; the view reads the body itself) ------------------------


class CaptureEventSerializer(serializers.Serializer):
    event = serializers.CharField(max_length=200, help_text="The event's name, e.g. signed_up or $pageview.")
    distinct_id = serializers.CharField(max_length=200, help_text="Who did it: a user id or an anonymous id.")
    timestamp = serializers.DateTimeField(required=False, help_text="When it happened (default: when received).")
    properties = serializers.DictField(required=False, help_text="Anything about the event, as JSON.")
    uuid = serializers.UUIDField(required=False, help_text="Re-sending the same uuid stores the event once.")


class CaptureSerializer(CaptureEventSerializer):
    api_key = serializers.CharField(help_text="The project key (or send it as `Authorization: Bearer phc_…`).")
    sent_at = serializers.DateTimeField(
        required=False, help_text="When the client sent the request, by its clock: corrects its clock's skew."
    )
    batch = CaptureEventSerializer(
        many=True, required=False, max_length=1000, help_text="Up to 1,000 events; then leave out the event's fields."
    )


class RefusedSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's place in the batch, from 0.")
    field = serializers.CharField()
    message = serializers.CharField()
    code = serializers.CharField()


class CaptureResultSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="1, as PostHog's SDKs expect.")
    accepted = serializers.IntegerField(help_text="Events queued for storage.")
    refused = RefusedSerializer(many=True, help_text="Events refused, and why.")
