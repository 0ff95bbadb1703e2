"""/api/v1/notifications/webhooks/ (admins): endpoints, their secret, test events, replay and
the delivery log with every attempt."""

import uuid

import django_filters
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from apps.core.api.filters import HubFilterSet, IdFilter
from apps.core.api.views import HubGenericViewSet

from .. import selectors, webhooks
from ..models import WebhookDelivery, WebhookEndpoint
from .serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    EndpointCreatedSerializer,
    EndpointSerializer,
    EndpointUpdateSerializer,
    ReplayResultSerializer,
    ReplaySerializer,
    SecretSerializer,
)


class WebhookPermissions:
    api_scope = "webhooks"
    read_permission = "settings.change"
    write_permission = "settings.change"


@extend_schema_view(
    list=extend_schema(summary="List webhook endpoints"),
    retrieve=extend_schema(summary="One webhook endpoint"),
    create=extend_schema(
        summary="Add a webhook endpoint (the response holds its signing secret)",
        responses={201: EndpointCreatedSerializer},
    ),
    partial_update=extend_schema(
        summary="Change an endpoint (URL, event types, description) or enable/disable it",
        request=EndpointUpdateSerializer,
    ),
    destroy=extend_schema(summary="Delete an endpoint and its delivery log"),
    secret=extend_schema(summary="The endpoint's current signing secret", responses=SecretSerializer),
    rotate_secret=extend_schema(
        summary="Rotate the signing secret (the old one also signs for 24 hours)",
        request=None,
        responses=SecretSerializer,
    ),
    send_test=extend_schema(summary="Send a test event", request=None, responses={202: DeliverySerializer}),
    replay=extend_schema(
        summary="Re-deliver every event of a type since a time",
        request=ReplaySerializer,
        responses={202: ReplayResultSerializer},
    ),
)
class WebhookEndpointViewSet(
    WebhookPermissions,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    HubGenericViewSet,
):
    serializer_class = EndpointSerializer
    ordering_fields = ["id", "created"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        # The tenant's own schema: another tenant's endpoints do not exist here.
        return selectors.endpoint_list().order_by("-id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = webhooks.endpoint_create(
            url=data["url"],
            event_types=data.get("event_types", []),
            description=data.get("description", ""),
            created_by=request.user,
        )
        headers = {"Location": f"{request.path.rstrip('/')}/{endpoint.pk}/"}
        return Response(EndpointCreatedSerializer(endpoint).data, status=status.HTTP_201_CREATED, headers=headers)

    def partial_update(self, request, *args, **kwargs):
        endpoint = self.get_object()
        payload = EndpointUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        self.check_precondition(endpoint)
        data = payload.validated_data
        if {"url", "event_types", "description"} & set(data):
            webhooks.endpoint_update(
                endpoint=endpoint,
                url=data.get("url", endpoint.url),
                event_types=data.get("event_types", endpoint.event_types),
                description=data.get("description", endpoint.description),
            )
        if "is_active" in data and data["is_active"] != endpoint.is_active:
            reason = "" if data["is_active"] else "Disabled through the API."
            webhooks.endpoint_set_active(endpoint=endpoint, active=data["is_active"], reason=reason)
        return Response(EndpointSerializer(endpoint).data)

    def perform_destroy(self, instance):
        self.check_precondition(instance)
        webhooks.endpoint_delete(endpoint=instance)

    @action(detail=True, methods=["get"])
    def secret(self, request, *args, **kwargs):
        endpoint = self.get_object()
        return Response(SecretSerializer(_secret(endpoint)).data)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, *args, **kwargs):
        endpoint = webhooks.endpoint_rotate_secret(endpoint=self.get_object())
        return Response(SecretSerializer(_secret(endpoint)).data)

    @action(detail=True, methods=["post"], url_path="test")
    def send_test(self, request, *args, **kwargs):
        delivery = webhooks.endpoint_send_test(endpoint=self.get_object())
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def replay(self, request, *args, **kwargs):
        endpoint = self.get_object()
        payload = ReplaySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        queued = webhooks.endpoint_replay(
            endpoint=endpoint, event_type=payload.validated_data["event_type"], since=payload.validated_data["since"]
        )
        return Response({"queued": queued}, status=status.HTTP_202_ACCEPTED)


def _secret(endpoint: WebhookEndpoint) -> dict:
    secrets = webhooks.signing_secrets(endpoint)
    return {
        "secret": endpoint.secret,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at if len(secrets) > 1 else None,
    }


class DeliveryFilter(HubFilterSet):
    endpoint = IdFilter(field_name="endpoint_id", help_text="Only the deliveries of this endpoint.")
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event_type = django_filters.CharFilter(max_length=100)

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]


@extend_schema_view(
    list=extend_schema(summary="The delivery log, newest first (filter by endpoint, status, event type)"),
    retrieve=extend_schema(summary="One delivery with every attempt", responses=DeliveryDetailSerializer),
    resend=extend_schema(
        summary="Send the same message again (same webhook-id)", request=None, responses={202: DeliverySerializer}
    ),
)
class WebhookDeliveryViewSet(WebhookPermissions, mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilter
    ordering_fields = ["created"]
    ordering = ["-created"]
    lookup_value_regex = "[^/]{1,64}"

    def get_queryset(self):
        return selectors.delivery_log()

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    def get_object(self):
        try:
            uuid.UUID(str(self.kwargs.get(self.lookup_field, "")))
        except ValueError:
            raise Http404 from None  # not a delivery id: simply not found
        return super().get_object()

    @action(detail=True, methods=["post"])
    def resend(self, request, *args, **kwargs):
        copy = webhooks.delivery_resend(delivery=self.get_object())
        return Response(DeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)
