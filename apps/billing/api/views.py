"""/api/v1/billing/: the organisation's plan with its usage this month, and its usage per day
(read only: an API key with the billing:read scope, or an admin's session)."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.response import Response

from apps.core.api.filters import HubFilterSet
from apps.core.api.views import HubAPIView, HubGenericViewSet

from .. import selectors, services
from ..models import Quantity, UsageRecord
from .serializers import PlanSerializer, UsageRecordSerializer

MANAGE = "billing.manage"


class UsageFilter(HubFilterSet):
    quantity = django_filters.ChoiceFilter(choices=Quantity.choices)
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = UsageRecord
        fields = ["quantity", "since", "until"]


@extend_schema_view(list=extend_schema(summary="Usage per day and quantity, newest first"))
class UsageViewSet(mixins.ListModelMixin, HubGenericViewSet):
    api_scope = "billing"
    read_permission = MANAGE
    serializer_class = UsageRecordSerializer
    filterset_class = UsageFilter
    ordering_fields = ["id", "day", "quantity", "amount"]
    ordering = ["-day", "quantity"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI document's generation
            return UsageRecord.objects.none()
        return selectors.usage_daily(tenant=self.request.tenant)


class PlanView(HubAPIView):
    api_scope = "billing"
    read_permission = MANAGE

    @extend_schema(summary="The organisation's plan, its price and its usage this month", responses=PlanSerializer)
    def get(self, request, *args, **kwargs):
        tenant = request.tenant
        plan = selectors.plan_get(key=tenant.plan)
        subscription = services.subscription_ensure(tenant=tenant)
        usage = selectors.usage_summary(tenant=tenant)
        data = {
            "key": tenant.plan,
            "name": plan.name if plan else tenant.get_plan_display(),
            "features": plan.features if plan else [],
            "price": subscription.price if subscription else None,
            "started": subscription.started if subscription else None,
            "seats": subscription.seats if subscription else None,
            "usage": [
                {"quantity": u.quantity, "label": u.label, "used": u.used, "limit": u.limit,
                 "monthly": u.monthly, "percent": u.percent}
                for u in usage
            ],
        }  # fmt: skip
        return Response(PlanSerializer(data).data)
