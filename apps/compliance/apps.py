from apps.core.appconfig import HubAppConfig, Schema


class ComplianceConfig(HubAppConfig):
    """Compliance: the tenant's tamper-evident audit trail (every audit entry chained by hashes,
    append-only at the database, verified by `verify_audit`, forwarded to the tenant's SIEM), the
    personal-data map (which models of which app hold personal data, and how each is exported
    and erased), data subject requests (copies, erasure, correction), and retention policies with
    legal holds.

    TENANT app: the audit log it seals is each tenant's own (auditlog_logentry in the tenant's
    schema), so the seals and the SIEM settings live beside it and go with the tenant. The
    database functions its triggers call are schema-neutral and live in the public schema.
    """

    name = "apps.compliance"
    label = "compliance"
    schema = Schema.TENANT

    def ready(self):
        from auditlog.registry import auditlog

        from apps.core.registry import (
            ApiScope,
            NavItem,
            NotificationRule,
            PeriodicTask,
            Permission,
            register_api_scope,
            register_event_type,
            register_nav_item,
            register_notification_rule,
            register_periodic_task,
            register_permission,
        )
        from apps.identity.selectors import event_admin_ids
        from apps.tenancy.models import tenant_restored

        from . import data_requests
        from .events import EVENT_TYPES, request_subject
        from .models import (
            AccessReview,
            AccessReviewItem,
            ComplianceReport,
            ConsentPurpose,
            DataRequest,
            LegalHold,
            RetentionPolicy,
            SiemSettings,
        )

        register_permission(
            Permission(
                "compliance.manage", "Compliance: audit forwarding and personal data", role="admin",
                description="Check and export the audit trail, choose where it is forwarded, see the data inventory.",
            ),
        )  # fmt: skip
        register_nav_item(
            NavItem("Compliance", "compliance:index", icon="shield", permission="compliance.manage", weight=88)
        )
        register_event_type(*EVENT_TYPES)
        from apps.core.registry import GraphQLType, register_graphql_type

        from . import graphql

        register_graphql_type(
            GraphQLType(
                "DataRequest", graphql.DataRequest, graphql.ROOT_FIELDS, "Data requests.",
                query=graphql.ComplianceQuery, mutation=graphql.ComplianceMutation,
            )
        )  # fmt: skip
        register_api_scope(
            ApiScope("compliance", "Consent records and data subject requests.", label="Consent and data requests")
        )
        register_periodic_task(
            PeriodicTask("compliance-siem-forward", "apps.compliance.tasks.siem_forward_all_tenants", 30.0),
            PeriodicTask("compliance-retention", "apps.compliance.tasks.retention_apply_all_tenants", 3600.0),
            PeriodicTask("compliance-requests-due", "apps.compliance.tasks.data_requests_remind_all_tenants", 3600.0),
            PeriodicTask("compliance-daily", "apps.compliance.tasks.compliance_daily_all_tenants", 86400.0),
        )
        mine = "/compliance/my-data/"
        register_notification_rule(
            NotificationRule("compliance.data_request_opened", event_admin_ids, default_channel="both"),
            NotificationRule("compliance.data_request_due", event_admin_ids, default_channel="both"),
            NotificationRule("compliance.data_request_completed", request_subject, url=mine, default_channel="both"),
            NotificationRule("compliance.data_request_refused", request_subject, url=mine, default_channel="both"),
            NotificationRule("compliance.access_review_opened", event_admin_ids, default_channel="both"),
            NotificationRule("compliance.report_ready", event_admin_ids),
        )
        tenant_restored.connect(data_requests.tenant_restored, dispatch_uid="compliance_erasures_replay")
        auditlog.register(SiemSettings, include_fields=["transport", "host", "port", "url"])
        auditlog.register(RetentionPolicy)
        auditlog.register(LegalHold)
        auditlog.register(ConsentPurpose)
        auditlog.register(AccessReview)
        auditlog.register(AccessReviewItem, include_fields=["decision", "decided_at"])
        auditlog.register(ComplianceReport, include_fields=["period_start", "status"])
        auditlog.register(DataRequest, include_fields=["kind", "law", "status", "verified_at", "completed_at"])
        # Personal data in the audit trail: kept, as the record the organisation must keep (the
        # entries are append-only, and a person's erasure must not erase the evidence of what they did).
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import PersonalData, register_data_eraser, register_data_exporter

        exporter, eraser = personal_data_parts(
            "audit",
            "Audit trail",
            (
                PersonalData(
                    "auditlog.LogEntry", ("activity", "network"),
                    ("timestamp", "action", "object_repr", "changes_text", "actor_email", "remote_addr"),
                    "Security and accountability: who changed what, and every log-in.", erasure="keep",
                    note="Kept: the audit trail is evidence the organisation must keep, and is append-only.",
                ),
                PersonalData(
                    "compliance.RetentionPolicy", ("activity",), ("record_type", "created"),
                    "Who set each retention policy.",
                ),
                PersonalData(
                    "compliance.LegalHold", ("activity",), ("record_type", "object_id", "placed_at", "released_at"),
                    "Who placed and released each legal hold.",
                ),
                PersonalData(
                    "compliance.RetentionRun", ("activity",), ("record_type", "started_at"),
                    "Who ran a retention policy by hand.",
                ),
                PersonalData(
                    "compliance.ConsentRecord", ("preferences", "network"),
                    ("purpose_id", "subject", "granted", "method", "purpose_version", "source", "ip_address",
                     "user_agent", "recorded_at"),
                    "Proof of what the person consented to, when and how.", erasure="delete",
                    note="Records the banner or the API gave under the site's own id for the person (not a member's "
                    "account) are found by that id only.",
                ),
                PersonalData(
                    "compliance.AccessReviewItem", ("identity", "security"),
                    ("name", "role", "has_second_factor", "last_login", "decision", "decided_at"),
                    "Each quarter's review of who has access, and who decided.", erasure="keep",
                    note="Kept as the evidence of the access reviews an auditor asks for.",
                ),
                PersonalData(
                    "compliance.ComplianceReport", ("activity",), ("period_start", "created"),
                    "Who asked for a compliance report.",
                ),
                PersonalData(
                    "compliance.DataRequest", ("identity",),
                    ("kind", "law", "status", "subject_name", "details", "opened_at", "verification", "completed_at"),
                    "The person's requests about their data, and how each was answered.", erasure="keep",
                    note="Kept as the proof each request was answered; an erasure replaces the person's name "
                    "on it and what they wrote.",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
