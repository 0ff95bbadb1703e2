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
    path("retention/", views.retention_page, name="retention"),
    path("retention/<int:pk>/apply/", views.retention_apply, name="retention_apply"),
    path("retention/<int:pk>/delete/", views.retention_delete, name="retention_delete"),
    path("retention/holds/", views.hold_place, name="hold_place"),
    path("retention/holds/<int:pk>/release/", views.hold_release, name="hold_release"),
]
