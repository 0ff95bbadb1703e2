from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.connection_new, name="new"),
    path("<int:pk>/", views.connection_detail, name="connection"),
    path("<int:pk>/test/", views.connection_test, name="test"),
    path("<int:pk>/delete/", views.connection_delete, name="delete"),
    path("<int:pk>/connect/", views.connection_connect, name="connect"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("apis/", views.apis, name="specs"),
    path("apis/<int:pk>/", views.api_detail, name="api"),
    path("apis/<int:pk>/delete/", views.api_delete, name="api_delete"),
]
