from django.urls import path, re_path

from apps.api.graphql.sockets import GraphQLSocket
from apps.notifications.consumers import HubConsumer
from apps.tenancy.channels import refuse

websocket_urlpatterns = [
    path("ws/", HubConsumer.as_asgi()),
    path("graphql/", GraphQLSocket.as_asgi()),  # GraphQL subscriptions (graphql-transport-ws)
    re_path(r"", refuse),  # any other path: refused (403), not an error
]
