from django.urls import path

from . import views

app_name = "ops"
urlpatterns = [
    path("", views.status_page, name="status"),
    path("ready", views.status_page, name="ready"),
]
