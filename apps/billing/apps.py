from apps.core.appconfig import HubAppConfig, Schema


class BillingConfig(HubAppConfig):
    """Billing: plans with limits and features (operators edit them in the Django admin), their
    prices over time (a tenant keeps the price it took: grandfathering), each tenant's
    subscription and plan changes, its usage per day of each limited quantity (collected hourly,
    idempotently), and the limits enforced where a quantity grows (apps.core.limits). Invoices,
    payments and dunning are not built yet.

    SHARED app: plans are the platform's, one set for every tenant, and a tenant's subscription
    and usage are the platform's record about the tenant (what it pays for, what it used), read
    across tenants by operators and kept outside the tenant's own data: they live in the public
    schema, each naming its tenant (a key to tenancy.Tenant), and travel with its backups.
    Tenant.plan stays the one record of which plan a tenant is on; billing is its only writer.
    """

    name = "apps.billing"
    label = "billing"
    schema = Schema.SHARED

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import (
            ApiScope,
            BackupPart,
            GraphQLType,
            NavItem,
            NotificationRule,
            PeriodicTask,
            Permission,
            Quota,
            register_api_scope,
            register_backup_part,
            register_event_type,
            register_graphql_type,
            register_nav_item,
            register_notification_rule,
            register_periodic_task,
            register_permission,
            register_quota,
        )
        from apps.identity.selectors import event_admin_ids

        from . import graphql, quotas
        from .events import EVENT_TYPES
        from .models import Plan, PlanPrice, Quantity, Subscription

        register_permission(
            Permission(
                "billing.manage", "Billing: the plan and its usage", role="admin",
                description="See the plan, its limits and the usage against them, and change the plan.",
            ),
        )  # fmt: skip
        register_nav_item(
            NavItem("Plan and usage", "billing:index", icon="card", permission="billing.manage", weight=92)
        )
        register_api_scope(
            ApiScope(
                "billing", "The plan, its limits and the usage per day; changing the plan.", label="Plan and usage"
            )
        )
        register_graphql_type(
            GraphQLType(
                "BillingPlan", graphql.BillingPlan, graphql.ROOT_FIELDS, "The plan and its usage.",
                query=graphql.BillingQuery, mutation=graphql.BillingMutation,
            ),
            GraphQLType("Plan", graphql.Plan, description="A plan one may choose."),
            GraphQLType("UsageRecord", graphql.UsageRecord, description="Usage of a quantity on a day."),
        )  # fmt: skip
        register_event_type(*EVENT_TYPES)
        register_notification_rule(
            NotificationRule("billing.plan_changed", event_admin_ids),
            NotificationRule("billing.limit_reached", event_admin_ids, default_channel="both"),
        )
        register_periodic_task(PeriodicTask("billing-usage-collect", "billing.usage_collect", 3600.0))
        register_quota(
            Quota(Quantity.SEATS.value, "members", quotas.quota_check(Quantity.SEATS)),
            Quota(Quantity.API_CALLS.value, "API calls this month", quotas.quota_check(Quantity.API_CALLS)),
            Quota(Quantity.STORAGE_BYTES.value, "storage", quotas.quota_check(Quantity.STORAGE_BYTES)),
            Quota(
                Quantity.ANALYTICS_EVENTS.value, "analytics events this month",
                quotas.quota_check(Quantity.ANALYTICS_EVENTS),
            ),
            Quota(Quantity.WORKFLOW_RUNS.value, "workflow runs this month", quotas.quota_check(Quantity.WORKFLOW_RUNS)),
        )  # fmt: skip
        # A tenant's subscription and usage are public rows of the tenant: they go with its backups.
        register_backup_part(BackupPart("billing.Subscription"), BackupPart("billing.UsageRecord"))
        # In the platform audit log: who changed which plan, price or subscription.
        auditlog.register(Plan)
        auditlog.register(PlanPrice)
        auditlog.register(Subscription)
