from django.urls import path

from . import views

app_name = "flags"

urlpatterns = [
    path("flags/", views.index, name="index"),
]
