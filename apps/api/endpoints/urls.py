"""apps.api's own endpoints, at the root of /api/v1/ (api_prefix ""): API keys and their usage."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .keys import ApiKeyViewSet, UsageView

router = SimpleRouter()
router.register("api-keys", ApiKeyViewSet, basename="api-key")

urlpatterns = [
    path("usage/", UsageView.as_view(), name="usage"),
    *router.urls,
]
