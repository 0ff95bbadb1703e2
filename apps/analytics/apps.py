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
            GraphQLType,
            NavItem,
            PeriodicTask,
            Permission,
            SearchProvider,
            Sweeper,
            register_api_scope,
            register_backup_part,
            register_event_handler,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_periodic_task,
            register_permission,
            register_search_provider,
            register_sweeper,
        )
        from apps.tenancy.models import schema_dropping

        from . import graphql, selectors, services, storage
        from .events import EVENT_TYPES
        from .models import (
            BiAccess,
            Cohort,
            Dashboard,
            DashboardTile,
            EventStoreChoice,
            Insight,
            PageViewSettings,
            ProjectKey,
            ReportJob,
            ScheduledReport,
        )

        register_graphql_type(
            GraphQLType(
                "Insight", graphql.Insight, graphql.ROOT_FIELDS, "Saved insights and dashboards.",
                query=graphql.AnalyticsQuery,
            ),
            GraphQLType("Dashboard", graphql.Dashboard, description="A dashboard of insights."),
        )  # fmt: skip

        schema_dropping.connect(services.tenant_dropping, dispatch_uid="analytics_tenant_dropping")
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
                "analytics.cohorts.view",
                "Analytics: see cohorts",
                role="viewer",
                description="See cohorts (groups of persons) and who is in them.",
            ),
            Permission(
                "analytics.cohorts.build",
                "Analytics: build cohorts",
                role="member",
                description="Create, change and delete cohorts, and list their members.",
            ),
            Permission(
                "analytics.events.view",
                "Analytics: see events and persons",
                role="viewer",
                description="See the live events and the persons behind them, with their properties.",
            ),
            Permission(
                "analytics.dashboards.view",
                "Analytics: see dashboards",
                role="viewer",
                description="See the organisation's analytics dashboards.",
            ),
            Permission(
                "analytics.dashboards.build",
                "Analytics: build dashboards",
                role="member",
                description="Create, arrange, share and delete dashboards.",
            ),
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
        # The analytics pages sit together in the navigation (dashboards first).
        register_nav_item(
            NavItem(
                "Dashboards", "analytics:dashboards", icon="chart", permission="analytics.dashboards.view", weight=20
            ),
            NavItem("Insights", "analytics:insights", icon="chart", permission="analytics.insights.view", weight=21),
            NavItem("Live events", "analytics:events", icon="activity", permission="analytics.events.view", weight=56),
            NavItem("Persons", "analytics:persons", icon="users", permission="analytics.events.view", weight=57),
            NavItem("Project keys", "analytics:keys", icon="key", permission="analytics.keys.manage", weight=58),
            NavItem("Cohorts", "analytics:cohorts", icon="users", permission="analytics.cohorts.view", weight=22),
            NavItem("Reports", "analytics:reports", icon="chart", permission="analytics.reports.build", weight=23),
            NavItem("BI access", "analytics:bi", icon="database", permission="analytics.bi.manage", weight=88),
        )
        register_search_provider(
            SearchProvider("analytics_persons", "Persons", selectors.person_search, permission="analytics.events.view")
        )
        register_api_scope(
            ApiScope(
                "analytics", "Analytics: project keys, queries, insights, cohorts, dashboards, reports and exports."
            )
        )
        register_event_type(*EVENT_TYPES)
        auditlog.register(Insight)  # who changed which saved query, in the tenant's audit log
        auditlog.register(Cohort)
        auditlog.register(Dashboard, exclude_fields=["share_secret", "updated"])  # the secret never in a log
        auditlog.register(DashboardTile)
        auditlog.register(ScheduledReport)
        auditlog.register(BiAccess, exclude_fields=["password"])  # who granted, rotated (never the secret)
        auditlog.register(ProjectKey, exclude_fields=["key_hash"])
        auditlog.register(PageViewSettings, exclude_fields=["raw_key", "updated"])
        auditlog.register(EventStoreChoice, exclude_fields=["changed"])
        # A report job: who asked for what and how it ended, not each step of its progress.
        auditlog.register(ReportJob, include_fields=["kind", "format", "title", "requested_by", "status"])
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
        # Personal data: who made the saved queries, dashboards, keys and reports (the compliance data
        # inventory). The product's own analytics persons are the tenant's customers, not its members.
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        made = "Who made it, shown beside it."
        exporter, eraser = personal_data_parts(
            "analytics",
            "Analytics",
            (
                PersonalData("analytics.ProjectKey", ("security",), ("name", "prefix", "created", "revoked_at"), made),
                PersonalData("analytics.Insight", ("content",), ("name", "created"), made),
                PersonalData("analytics.Cohort", ("content",), ("name", "created"), made),
                PersonalData("analytics.Dashboard", ("content",), ("name", "created"), made),
                PersonalData(
                    "analytics.ReportJob", ("activity",), ("kind", "format", "title", "status", "created"),
                    "Who asked for an export or report, to send it to them.",
                ),
                PersonalData(
                    "analytics.ScheduledReport", ("content",), ("name", "frequency", "created"), made,
                    note="Its recipients are user ids in a list, not references: erasure does not yet remove "
                    "the person from them (the report stops reaching them once they are no longer a member).",
                ),
                PersonalData("analytics.BiAccess", ("security",), ("role_name", "created"), made),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
