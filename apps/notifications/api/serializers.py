from rest_framework import serializers

from apps.core.api.serializers import HubModelSerializer, StrictCharField, UtcDateTimeField
from apps.core.registry import registry

from ..models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def event_type_choices() -> list[str]:
    """The registered event type names (SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES names them)."""
    return sorted(registry["event_types"])


class EventTypeField(serializers.ChoiceField):
    """An event type name: one of the registry's (so the OpenAPI document lists them)."""

    def __init__(self, **kwargs):
        super().__init__(choices=event_type_choices(), **kwargs)


class EndpointSerializer(HubModelSerializer):
    url = StrictCharField(max_length=1000, help_text="https URL that receives the events (POST).")
    event_types = serializers.ListField(
        child=EventTypeField(),
        max_length=100,
        required=False,
        help_text="Event type names (see /api/v1/events/event-types/); empty or missing: every event type.",
    )
    description = StrictCharField(max_length=200, required=False, allow_blank=True)

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "failing_since",
            "created",
        ]
        read_only_fields = ["id", "is_active", "disabled_at", "disabled_reason", "failing_since", "created"]


class EndpointCreatedSerializer(EndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="The `whsec_` signing secret.")

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class EndpointUpdateSerializer(serializers.Serializer):
    url = StrictCharField(max_length=1000, required=False)
    description = StrictCharField(max_length=200, required=False, allow_blank=True)
    event_types = serializers.ListField(child=EventTypeField(), max_length=100, required=False)
    is_active = serializers.BooleanField(required=False, help_text="false disables the endpoint, true enables it.")


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(read_only=True)
    previous_secret_expires_at = serializers.DateTimeField(read_only=True, allow_null=True)


class ReplaySerializer(serializers.Serializer):
    event_type = EventTypeField(help_text="An event type name.")
    since = UtcDateTimeField(help_text="Every event of the type that happened at or after this time.")


class ReplayResultSerializer(serializers.Serializer):
    queued = serializers.IntegerField(help_text="How many deliveries were queued.")


class AttemptSerializer(HubModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "attempted_at",
            "url",
            "request_headers",
            "response_status",
            "response_headers",
            "response_body",
            "duration_ms",
            "error",
        ]


class DeliverySerializer(HubModelSerializer):
    webhook_id = serializers.CharField(source="message_id", read_only=True)
    status = serializers.CharField(read_only=True, help_text="pending, succeeded or failed.")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_type",
            "status",
            "attempt_count",
            "next_attempt_at",
            "created",
            "completed_at",
            "is_test",
            "is_replay",
        ]


class DeliveryDetailSerializer(DeliverySerializer):
    body = serializers.CharField(read_only=True)
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "body", "attempts"]
