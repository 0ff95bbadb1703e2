from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("", views.index, name="index"),
    path("audit/check/", views.audit_check, name="audit_check"),
    path("audit/export/", views.audit_export, name="audit_export"),
    path("siem/", views.siem, name="siem"),
    path("data-inventory/", views.inventory, name="inventory"),
    path("data-inventory.json", views.inventory_json, name="inventory_json"),
]
