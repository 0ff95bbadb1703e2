from django.urls import path

from . import views

app_name = "security"

urlpatterns = [
    path("", views.incidents, name="incidents"),
    path("<int:pk>/", views.incident, name="incident"),
    path("<int:pk>/respond/", views.respond, name="respond"),
    path("<int:pk>/close/", views.close, name="close"),
    path("rules/", views.rules, name="rules"),
    path("posture/", views.posture, name="posture"),
    path("posture/check/", views.posture_check, name="posture_check"),
    path("rules/<str:code>/", views.rule_save, name="rule_save"),
]
