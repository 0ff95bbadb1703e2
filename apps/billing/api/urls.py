"""Mounted at /api/v1/billing/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import PlanView, UsageViewSet

usage = SimpleRouter()
usage.register("", UsageViewSet, basename="billing-usage")

urlpatterns = [
    path("plan/", PlanView.as_view(), name="billing-plan"),
    path("usage/", include(usage.urls)),
]
