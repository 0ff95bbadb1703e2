"""tenancy's API, at the root of /api/v1/ (api_prefix ""): the organisation."""

from django.urls import path

from .views import TenantView

urlpatterns = [path("tenant/", TenantView.as_view(), name="tenant")]
