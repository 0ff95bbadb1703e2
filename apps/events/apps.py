from django.apps import AppConfig


class EventsConfig(AppConfig):
    """Domain events: the outbox, the dispatcher and the handler table.

    TENANT app: each tenant's outbox (`events_event`) lives in its own schema, so a tenant's
    events never mix with another's and are dropped with it. `publish()` writes a row in the
    caller's transaction; after commit a Celery task dispatches it to the handlers registered
    for its type (apps.events.handlers); a periodic sweep, fanned out from the public schema to
    every tenant, re-dispatches whatever is still undispatched.
    """

    name = "apps.events"
    label = "events"

    def ready(self):
        from apps.core.events import install_publisher

        from . import catalog
        from .services import event_publish

        catalog.register()
        try:
            from apps.api import scopes
        except ImportError:  # the API app is optional for the spine
            scopes = None
        if scopes is not None and "events" not in scopes.apps():
            scopes.register("events", "Event types and their payload schemas (read only).")
        install_publisher(
            lambda event_type, payload, *, tenant, actor=None: event_publish(
                event_type=event_type, payload=payload, tenant=tenant, actor=actor
            )
        )
