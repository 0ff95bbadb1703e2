from apps.core.appconfig import HubAppConfig, Schema


class NotificationsConfig(HubAppConfig):
    """In-app notifications and preferences, e-mail, Web Push, the live dashboard (websocket
    /ws/), and webhooks (endpoints, Standard Webhooks signing, delivery log, retries, replay).

    TENANT app: notifications, preferences, push subscriptions, endpoints and deliveries live in
    the tenant's schema (they reference users in the public schema). It handles every event
    type (its handlers are registered for "*"), notifying people by the registry's rules.

    Its pages keep their root addresses (/notifications/…, /webhooks/…: url_prefix "").
    """

    name = "apps.notifications"
    label = "notifications"
    schema = Schema.TENANT
    url_prefix = ""

    def ready(self):
        from apps.core.registry import (
            ApiScope,
            ChecklistItem,
            EventHandler,
            GraphQLType,
            NavItem,
            RetentionType,
            SearchProvider,
            Sweeper,
            Widget,
            register_api_scope,
            register_checklist_item,
            register_event_handler,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_notification_rule,
            register_retention_type,
            register_search_provider,
            register_sweeper,
            register_widget,
        )

        from . import graphql
        from .events import EVENT_TYPES, NOTIFICATION_RULES
        from .selectors import endpoint_exists, webhook_search
        from .services import live_event, notify_for_events
        from .webhooks import deliver_events, deliveries_sweep

        register_event_type(*EVENT_TYPES)
        register_notification_rule(*NOTIFICATION_RULES)
        register_retention_type(
            RetentionType("notifications.notification", "Notifications", "notifications.Notification", "created"),
            RetentionType(
                "notifications.webhook_delivery",
                "Webhook deliveries",
                "notifications.WebhookDelivery",
                "completed_at",
                note="Finished deliveries only (delivered or given up); those still being tried are kept.",
            ),
        )
        register_graphql_type(
            GraphQLType(
                "WebhookEndpoint", graphql.WebhookEndpoint, graphql.ROOT_FIELDS, "Webhook endpoints.",
                query=graphql.WebhooksQuery,
            ),
            GraphQLType(
                "Event", graphql.Event, graphql.SUBSCRIPTION_FIELDS, "Domain events as they happen.",
                subscription=graphql.EventsSubscription,
            ),
        )  # fmt: skip
        register_event_handler(
            EventHandler("*", notify_for_events, batch=True),
            EventHandler("*", deliver_events, batch=True),
            EventHandler("*", live_event),
        )
        register_sweeper(Sweeper("webhook-deliveries", deliveries_sweep))
        register_api_scope(
            ApiScope(
                "webhooks",
                "Webhook endpoints, their secrets, test events, replay and delivery log.",
                label="Webhooks",
            )
        )
        register_nav_item(
            NavItem("Notifications", "notifications:list", icon="bell", weight=70),
            NavItem("Webhooks", "notifications:webhooks", icon="webhook", permission="settings.change", weight=85),
        )
        register_search_provider(SearchProvider("webhooks", "Webhooks", webhook_search, permission="settings.change"))
        register_widget(
            Widget("notifications.activity", "Recent activity", "notifications/widgets/activity.html", weight=10)
        )
        register_checklist_item(
            ChecklistItem(
                "notifications.webhook",
                "Add a webhook",
                "notifications:webhooks",
                endpoint_exists,
                description="Have the organisation's events sent to your own systems as they happen.",
                permission="settings.change",
                weight=40,
            )
        )
        # The audit trail (apps.compliance): who changed webhooks and notification choices. The
        # notifications themselves and the delivery log are records of their own (its exclusions).
        from auditlog.registry import auditlog

        from .models import NotificationPreference, PushSubscription, WebhookEndpoint

        auditlog.register(WebhookEndpoint, exclude_fields=["secret", "previous_secret", "failing_since"])
        auditlog.register(NotificationPreference)
        auditlog.register(PushSubscription, exclude_fields=["p256dh", "auth", "last_error"])
        # Personal data (the compliance data inventory).
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "notifications",
            "Notifications and webhooks",
            (
                PersonalData(
                    "notifications.Notification", ("activity",), ("title", "body", "url", "created", "read_at"),
                    "Tell the person what happened that concerns them.", erasure="delete",
                ),
                PersonalData(
                    "notifications.NotificationPreference", ("preferences",), ("event_type", "channel"),
                    "How the person wants to be told.", erasure="delete",
                ),
                PersonalData(
                    "notifications.PushSubscription", ("network",), ("endpoint", "user_agent", "created"),
                    "Send notifications to the person's browsers.", erasure="delete",
                ),
                PersonalData(
                    "notifications.WebhookEndpoint", ("activity",), ("url", "description", "created"),
                    "Who added each webhook endpoint.",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
