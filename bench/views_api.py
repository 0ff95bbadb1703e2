"""The baseline of api_list: the same 20 members, serializer and cursor pagination as
GET /api/v1/members/, in a plain DRF ListAPIView: no tenant routing, no authentication, no
permission, rate limit, metering, versioning, filtering or ETag."""

import os

from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer

from apps.identity.api.serializers import MemberSerializer
from apps.identity.models import Membership


class PlainPagination(CursorPagination):
    page_size = 20
    ordering = "-id"


class PlainMemberList(ListAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    versioning_class = None
    filter_backends = []
    renderer_classes = [JSONRenderer]
    pagination_class = PlainPagination
    serializer_class = MemberSerializer

    def get_queryset(self):
        tenant_id = int(os.environ["BENCH_API_TENANT_ID"])
        return Membership.objects.filter(tenant_id=tenant_id).select_related("user").order_by("-id")
