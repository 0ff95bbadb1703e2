from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("activity/", views.activity, name="activity"),
    path("notifications/<int:pk>/read/", views.notification_read, name="read"),
    path("notifications/<int:pk>/open/", views.notification_open, name="open"),
    path("notifications/menu/", views.notification_menu, name="menu"),
    path("notifications/read-all/", views.notification_read_all, name="read_all"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("notifications/push/subscribe/", views.push_subscribe, name="push_subscribe"),
    path("notifications/push/unsubscribe/", views.push_unsubscribe, name="push_unsubscribe"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook"),
    path(
        "webhooks/<int:pk>/<str:action>/",
        views.webhook_action,
        name="webhook_action",
    ),
    path("webhooks/<int:pk>/deliveries/<uuid:delivery_id>/", views.delivery_detail, name="delivery"),
]
