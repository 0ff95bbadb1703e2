"""/api/v1/events/event-types/: the event types a tenant's webhooks (and workflows) can use."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from apps.core.api.views import HubAPIView

from ..selectors import event_type_get, event_type_list


@extend_schema_field(OpenApiTypes.OBJECT)
class JsonSchemaField(serializers.DictField):
    pass


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    payload_schema = JsonSchemaField(read_only=True, help_text="JSON Schema (2020-12) of the event's `data`.")


class EventTypeListView(HubAPIView):
    api_scope = "events"
    read_permission = "tenant.view"

    @extend_schema(summary="List event types", responses=EventTypeSerializer(many=True))
    def get(self, request, version=None):
        return Response(EventTypeSerializer(event_type_list(), many=True).data)


class EventTypeDetailView(HubAPIView):
    api_scope = "events"
    read_permission = "tenant.view"

    @extend_schema(summary="One event type, with the JSON schema of its payload", responses=EventTypeSerializer)
    def get(self, request, name, version=None):
        event_type = event_type_get(name=name)
        if event_type is None:
            raise exceptions.NotFound(f"There is no event type “{name}”.")
        return Response(EventTypeSerializer(event_type).data)
