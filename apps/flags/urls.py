"""The flags pages under flags/, and PostHog's flag endpoints at the root of the tenant's host
(the app's url_prefix is ""): POST /flags/ is PostHog's, GET /flags/ the page."""

from django.urls import path, re_path

from . import posthog, views
from . import views_experiments as exp

app_name = "flags"

urlpatterns = [
    path("flags/", views.index, name="index"),
    path("flags/new/", views.flag_new, name="new"),
    path("flags/properties/", views.property_declare, name="property-declare"),
    path("flags/properties/<int:pk>/forget/", views.property_forget, name="property-forget"),
    path("flags/<int:pk>/", views.flag_detail, name="flag"),
    path("flags/<int:pk>/history/", views.flag_history, name="history"),
    path("flags/<int:pk>/switch/", views.flag_switch, name="switch"),
    path("flags/<int:pk>/rollback/<int:version>/", views.flag_rollback, name="rollback"),
    path("flags/<int:pk>/delete/", views.flag_delete, name="delete"),
    path("experiments/", exp.experiment_list, name="experiments"),
    path("experiments/new/", exp.experiment_new, name="experiment-new"),
    path("experiments/<int:pk>/", exp.experiment_detail, name="experiment"),
    path("experiments/<int:pk>/start/", exp.experiment_start, name="experiment-start"),
    path("experiments/<int:pk>/stop/", exp.experiment_stop, name="experiment-stop"),
    path("experiments/<int:pk>/ship/", exp.experiment_ship, name="experiment-ship"),
    path("experiments/<int:pk>/delete/", exp.experiment_delete, name="experiment-delete"),
    re_path(r"^flags/definitions/?$", posthog.definitions, name="posthog-definitions"),
    re_path(r"^api/feature_flag/local_evaluation/?$", posthog.definitions, name="posthog-local-evaluation"),
    re_path(r"^decide/?$", posthog.decide, name="posthog-decide"),
    path("flags", posthog.remote, name="posthog-flags"),
]
