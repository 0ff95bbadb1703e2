from apps.core.appconfig import HubAppConfig, Schema


class AnalyticsConfig(HubAppConfig):
    """Analytics: events a tenant's sites and apps send (and the platform's own), persons.

    TENANT app: a tenant's events, persons and project keys live in its own schema, so no query
    of one tenant can reach another's events, and they go with the tenant.

    Its pages are mounted at the root (url_prefix ""): PostHog's SDKs send to /capture/,
    /batch/, /e/ of the host they are given, here the tenant's own host.
    """

    name = "apps.analytics"
    label = "analytics"
    schema = Schema.TENANT
    url_prefix = ""

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import (
            ApiScope,
            BackupPart,
            EventHandler,
            NavItem,
            PeriodicTask,
            Permission,
            Sweeper,
            register_api_scope,
            register_backup_part,
            register_event_handler,
            register_event_type,
            register_nav_item,
            register_periodic_task,
            register_permission,
            register_sweeper,
        )

        from . import services, storage
        from .events import EVENT_TYPES
        from .models import BiAccess, Insight, ScheduledReport

        register_permission(
            Permission(
                "analytics.keys.manage",
                "Analytics: manage project keys",
                role="admin",
                description="Create and revoke the keys sites and apps send analytics events with.",
            ),
        )
        register_permission(
            Permission(
                "analytics.insights.view",
                "Analytics: see insights",
                role="viewer",
                description="Run analytics queries and see saved insights.",
            ),
            Permission(
                "analytics.insights.build",
                "Analytics: build insights",
                role="member",
                description="Save, change and delete insights.",
            ),
        )
        register_permission(
            Permission(
                "analytics.reports.build",
                "Analytics: reports and exports",
                role="member",
                description="Make reports of insights and exports of raw events, and schedule reports.",
            ),
            Permission(
                "analytics.reports.manage",
                "Analytics: manage everyone's reports",
                role="admin",
                description="See, change and delete reports, exports and scheduled reports of every member.",
            ),
            Permission(
                "analytics.bi.manage",
                "Analytics: BI access",
                role="admin",
                description="Give BI tools (Metabase, Tableau) a read-only database login, rotate or remove it.",
            ),
        )
        register_nav_item(
            NavItem("Reports", "analytics:reports", icon="chart", permission="analytics.reports.build", weight=60),
            NavItem("BI access", "analytics:bi", icon="database", permission="analytics.bi.manage", weight=88),
        )
        register_api_scope(ApiScope("analytics", "Analytics: project keys, queries and insights."))
        register_event_type(*EVENT_TYPES)
        auditlog.register(Insight)  # who changed which saved query, in the tenant's audit log
        auditlog.register(ScheduledReport)
        auditlog.register(BiAccess, exclude_fields=["password"])  # who granted, rotated (never the secret)
        # Every domain event of the platform is also an analytics event.
        register_event_handler(EventHandler("*", services.domain_events_record, batch=True))
        register_periodic_task(
            PeriodicTask("analytics-partitions", "apps.analytics.tasks.maintain_partitions_all_tenants", 6 * 3600.0)
        )
        register_periodic_task(
            PeriodicTask(
                "analytics-scheduled-reports", "apps.analytics.tasks.send_scheduled_reports_all_tenants", 300.0
            )
        )
        register_sweeper(Sweeper("analytics-queue", services.queue_sweep))
        # A backup holds the event table's rows (read through the partitioned table); a restore
        # needs the table in the new schema first, which no migration makes (see storage.py).
        register_backup_part(BackupPart("analytics.Event", rows=None, prepare=storage.event_table_ensure))
