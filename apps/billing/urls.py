from django.urls import path

from . import views

app_name = "billing"

urlpatterns = [
    path("", views.index, name="index"),
    path("plan/", views.plan_change, name="plan_change"),
]
