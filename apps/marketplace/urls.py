from django.urls import path

from . import views

app_name = "marketplace"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:label>/", views.plugin_detail, name="plugin"),
    path("<slug:label>/enable/", views.plugin_enable, name="enable"),
    path("<slug:label>/disable/", views.plugin_disable, name="disable"),
    path("<slug:label>/uninstall/", views.plugin_uninstall, name="uninstall"),
]
