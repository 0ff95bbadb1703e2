from django.urls import path

from apps.notifications.consumers import HubConsumer
from apps.tenancy.consumers import WhoAmIConsumer

websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
]
