"""ASGI entry point: HTTP through Django (flag evaluation first through its fast path),
websockets through Channels.

A websocket must come from a page of the host it connects to (SameOriginWebsocketMiddleware; a
program's connection to /graphql/, with no Origin, goes on without cookies and needs an API key),
resolves its tenant from the Host header (TenantWebsocketMiddleware), then the session
authenticates the user, then the URL picks the consumer."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402
from django.core.cache import caches  # noqa: E402

# Django keeps a cache client per async context. Loading a websocket's session (on the sync
# thread, whose context changes asgiref copies back to the socket's task) left every socket a
# client of its own, ~17 kB each. Made here, in the context that uvicorn's connection tasks copy,
# one client serves them all (django_redis' client is thread-safe: a redis-py connection pool).
caches[settings.SESSION_CACHE_ALIAS]

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.flags.fastpath import EvaluateFastPath  # noqa: E402
from apps.tenancy.channels import SameOriginWebsocketMiddleware, TenantWebsocketMiddleware  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402

# A process may hold thousands of idle websockets, a couple of hundred objects each, and a full
# garbage collection walks them all (1-2 s at 10,000). Python runs one whenever the objects that
# survived the young collections reach a quarter of the old ones; with the default first
# threshold (700 more allocations than frees) the objects of sockets being opened and of a push
# in flight are collected young, survive and are promoted all the time: 25 full collections
# while 10,000 sockets open in the benchmark. At 100,000 most short-lived objects are freed by
# reference counting before any collection sees them (2 middle-aged collections, no full one).
gc.set_threshold(100_000)

application = ProtocolTypeRouter(
    {
        # Flag evaluation is answered from memory when it can be, before Django (apps.flags.fastpath).
        "http": EvaluateFastPath(django_asgi_app) if settings.HUB_FLAGS_FAST_PATH else django_asgi_app,
        "websocket": SameOriginWebsocketMiddleware(
            TenantWebsocketMiddleware(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
            cookieless=("/graphql/",),  # GraphQL subscriptions from programs, with an API key
        ),
    }
)
