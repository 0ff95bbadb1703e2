from django.urls import path

from apps.tenancy.consumers import WhoAmIConsumer

websocket_urlpatterns = [
    path("ws/whoami/", WhoAmIConsumer.as_asgi()),
]
