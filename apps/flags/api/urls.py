from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import EvaluateView, FlagViewSet, LocalEvaluationView

router = SimpleRouter()
router.register("", FlagViewSet, basename="flags-flag")

urlpatterns = [
    path("evaluate", EvaluateView.as_view(), name="flags-evaluate"),
    path("local-evaluation", LocalEvaluationView.as_view(), name="flags-local-evaluation"),
    *router.urls,
]
