from django.urls import re_path
from rest_framework.routers import SimpleRouter

from .views import CaptureView, ProjectKeyViewSet

router = SimpleRouter()
router.register("project-keys", ProjectKeyViewSet, basename="analytics-project-key")

urlpatterns = [re_path(r"^capture/?$", CaptureView.as_view(), name="analytics-capture"), *router.urls]
