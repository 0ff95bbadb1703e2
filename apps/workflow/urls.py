from django.urls import path

from . import views

app_name = "workflow"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.workflow_new, name="new"),
    path("palette/", views.palette, name="palette"),
    path("palette/<str:node_type>/", views.palette_node, name="palette_node"),
    path("<int:pk>/", views.workflow_detail, name="workflow"),
    path("<int:pk>/save/", views.workflow_save, name="save"),
    path("<int:pk>/publish/", views.workflow_publish, name="publish"),
    path("<int:pk>/switch/", views.workflow_switch, name="switch"),
    path("<int:pk>/delete/", views.workflow_delete, name="delete"),
    path("<int:pk>/run/", views.workflow_run, name="start"),
    path("<int:pk>/check/", views.workflow_check, name="check"),
    path("<int:pk>/test/", views.workflow_test_run, name="test_run"),
    path("<int:pk>/test/<int:run_pk>/", views.workflow_test_run_status, name="test_run_status"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/cancel/", views.run_cancel, name="cancel"),
    path("runs/<int:pk>/retry/", views.run_retry, name="retry"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="decide"),
    path("approvals/by-email/<str:token>/", views.approval_link, name="approval_link"),
    path("hooks/<str:token>/", views.hook, name="hook"),
]
