"""Mounted at /api/v1/compliance/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import BannerPurposesView, BannerRecordView, ConsentPurposesView, ConsentView, DataRequestViewSet

requests = SimpleRouter()
requests.register("", DataRequestViewSet, basename="compliance-request")

urlpatterns = [
    path("consent/purposes/", ConsentPurposesView.as_view(), name="compliance-consent-purposes"),
    path("consent/", ConsentView.as_view(), name="compliance-consent"),
    path("consent/banner/purposes", BannerPurposesView.as_view(), name="compliance-banner-purposes"),
    path("consent/banner/record", BannerRecordView.as_view(), name="compliance-banner-record"),
    path("requests/", include(requests.urls)),
]
