from apps.core.appconfig import HubAppConfig, Schema


class EventsConfig(HubAppConfig):
    """Domain events: the outbox and the dispatcher.

    TENANT app: each tenant's outbox (`events_event`) lives in its own schema, so a tenant's
    events never mix with another's and are dropped with it. `publish()` writes a row in the
    caller's transaction; after commit a Celery task dispatches it to the handlers registered
    for its type (EventHandler items in the registry); a periodic sweep, fanned out from the
    public schema to every tenant, re-dispatches whatever is still undispatched and runs the
    registered sweepers.
    """

    name = "apps.events"
    label = "events"
    schema = Schema.TENANT

    def ready(self):
        from django.conf import settings

        from apps.core.caching import bump_for_events
        from apps.core.events import install_publisher
        from apps.core.registry import (
            ApiScope,
            EventHandler,
            GraphQLType,
            PeriodicTask,
            register_api_scope,
            register_event_handler,
            register_graphql_type,
            register_periodic_task,
        )

        from .graphql import ROOT_FIELDS, EventsQuery, EventType
        from .services import event_publish

        register_graphql_type(GraphQLType("EventType", EventType, ROOT_FIELDS, "Event types.", query=EventsQuery))

        register_api_scope(
            ApiScope("events", "The kinds of events and what their data holds.", read_only=True, label="Event types")
        )
        # Beat fans out from the public schema to every tenant.
        register_periodic_task(
            PeriodicTask("events-sweep", "apps.events.tasks.sweep_all_tenants", settings.HUB_EVENTS_SWEEP_SECONDS),
            PeriodicTask(
                "events-recover", "apps.events.tasks.recover_held_tasks", settings.HUB_EVENTS_RECOVERY_SECONDS
            ),
        )
        # Every dispatched event makes the cached reads of the topics it touches stale (apps.core.caching).
        register_event_handler(EventHandler("*", bump_for_events, batch=True))
        install_publisher(
            lambda event_type, payload, *, tenant, actor=None: event_publish(
                event_type=event_type, payload=payload, tenant=tenant, actor=actor
            )
        )
        # Personal data: who caused each domain event (the compliance data inventory).
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "events",
            "Activity",
            (
                PersonalData(
                    "events.Event", ("activity",), ("type", "payload", "occurred_at"),
                    "The organisation's activity feed, webhooks and workflows: who did what.",
                    note="The payload may name the person (e.g. a member's e-mail address in member events).",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
