"""/api/v1/plugins/hello/greetings/: the greetings of new members (read only)."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.core.api.views import HubGenericViewSet, mixins

from ..selectors import greeting_list
from .serializers import GreetingSerializer


@extend_schema_view(
    list=extend_schema(summary="List greetings, newest first"),
    retrieve=extend_schema(summary="One greeting"),
)
class GreetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "hello"
    read_permission = "hello.view"
    serializer_class = GreetingSerializer
    ordering_fields = ["id"]

    def get_queryset(self):
        return greeting_list()
