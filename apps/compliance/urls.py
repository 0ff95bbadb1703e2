from django.urls import path

from . import views, views_consent, views_reports, views_requests

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
    path("requests/", views_requests.requests_page, name="requests"),
    path("requests/<int:pk>/", views_requests.request_page, name="request"),
    path("requests/<int:pk>/erase/", views_requests.request_erase, name="request_erase"),
    path("requests/<int:pk>/complete/", views_requests.request_complete, name="request_complete"),
    path("requests/<int:pk>/refuse/", views_requests.request_refuse, name="request_refuse"),
    path("requests/<int:pk>/retry/", views_requests.request_retry, name="request_retry"),
    path("requests/<int:pk>/certificate.pdf", views_requests.request_certificate, name="request_certificate"),
    path("requests/download/<str:token>/", views_requests.request_download, name="request_download"),
    path("requests/confirm/<str:token>/", views_requests.request_confirm, name="request_confirm"),
    path("my-data/", views_requests.my_data, name="my_data"),
    path("consent/", views_consent.consent_page, name="consent"),
    path("access-review/", views_reports.access_review, name="access_review"),
    path("access-review/<int:pk>/", views_reports.access_review_decide, name="access_review_decide"),
    path("reports/", views_reports.reports_page, name="reports"),
    path("reports/<int:pk>/download/", views_reports.report_download, name="report_download"),
]
