"""Mounted at /api/v1/ (the app's api_prefix is ""): the flags under flags/, the experiments
under experiments/."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from .views import DeclaredPropertyViewSet, EvaluateView, ExperimentViewSet, FlagViewSet, LocalEvaluationView

flags = SimpleRouter()
flags.register("", FlagViewSet, basename="flags-flag")
properties = SimpleRouter()
properties.register("", DeclaredPropertyViewSet, basename="flags-property")
experiments = SimpleRouter()
experiments.register("", ExperimentViewSet, basename="flags-experiment")

urlpatterns = [
    path("flags/evaluate", EvaluateView.as_view(), name="flags-evaluate"),
    path("flags/local-evaluation", LocalEvaluationView.as_view(), name="flags-local-evaluation"),
    path("flags/properties/", include(properties.urls)),
    path("flags/", include(flags.urls)),
    path("experiments/", include(experiments.urls)),
]
