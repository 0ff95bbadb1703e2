"""/api/v1/plugins/pulse/checkins/: the team's check-ins (read only)."""

from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.core.api.views import HubGenericViewSet, mixins

from ..selectors import checkin_list
from .serializers import CheckinSerializer


@extend_schema_view(
    list=extend_schema(summary="List team pulse check-ins, newest first"),
    retrieve=extend_schema(summary="One check-in"),
)
class CheckinViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, HubGenericViewSet):
    api_scope = "pulse"
    read_permission = "pulse.use"
    serializer_class = CheckinSerializer
    ordering_fields = ["id"]

    def get_queryset(self):
        return checkin_list()
