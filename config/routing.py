from django.urls import path, re_path

from apps.notifications.consumers import HubConsumer
from apps.tenancy.channels import refuse

websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
    re_path(r"", refuse),  # any other path: refused (403), not an error
]
