from apps.core.appconfig import HubAppConfig, Schema


class SecurityConfig(HubAppConfig):
    """Security: threat detection. Rules watch log-ins, API-key calls, downloads and domain events
    (sliding windows in Redis), raise incidents with a severity (at most once per rule, subject
    and window), tell the admins, and offer one-click responses (end sessions, lock the account,
    revoke the key, require a second factor), automatic per rule if the tenant wants. Posture
    scanning: checks of the organisation's settings and records, scored (posture.py), stored daily.

    TENANT app: incidents, responses and rule settings are the organisation's own records (about
    its members, its keys, its content), in its schema beside its audit log. Its pages are at
    /security-incidents/ (/security/ is identity's page of a person's own factors).
    """

    name = "apps.security"
    label = "security"
    schema = Schema.TENANT
    url_prefix = "security-incidents/"

    def ready(self):
        from auditlog.registry import auditlog
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from apps.api.signals import api_key_used
        from apps.content.serving import downloaded
        from apps.core.personal_data import personal_data_parts
        from apps.core.registry import (
            EventHandler,
            NavItem,
            NotificationRule,
            PeriodicTask,
            Permission,
            PersonalData,
            register_data_eraser,
            register_data_exporter,
            register_event_handler,
            register_event_type,
            register_nav_item,
            register_notification_rule,
            register_periodic_task,
            register_permission,
        )
        from apps.identity.selectors import event_admin_ids

        from . import watch
        from .events import EVENT_TYPES
        from .models import FactorRequirement, Incident, IncidentResponse, RuleSetting

        register_permission(
            Permission(
                "security.incidents", "Security incidents and responses", role="admin",
                description="See security incidents, respond to them (end sessions, lock accounts, revoke keys, "
                "require a second factor) and set the detection rules.",
            ),
        )  # fmt: skip
        register_nav_item(
            NavItem(
                "Security incidents", "security:incidents", icon="alert", permission="security.incidents", weight=87
            )
        )
        register_event_type(*EVENT_TYPES)
        register_periodic_task(
            PeriodicTask("security-posture-scan", "apps.security.tasks.posture_scan_all_tenants", 24 * 3600.0)
        )
        register_notification_rule(
            NotificationRule("security.incident_raised", event_admin_ids),
            NotificationRule("security.serious_incident_raised", event_admin_ids, default_channel="both"),
        )
        register_event_handler(
            *(EventHandler(name, watch.on_deletions, batch=True) for name in watch.DELETIONS),
            EventHandler("member.role_changed", watch.on_owner_made),
            EventHandler("member.joined", watch.on_owner_made),
        )
        user_logged_in.connect(watch.on_login, dispatch_uid="security.on_login")
        user_logged_in.connect(watch.on_login_factor, dispatch_uid="security.on_login_factor")
        user_login_failed.connect(watch.on_login_failed, dispatch_uid="security.on_login_failed")
        api_key_used.connect(watch.on_api_key_used, dispatch_uid="security.on_api_key_used")
        downloaded.connect(watch.on_download, dispatch_uid="security.on_download")

        auditlog.register(Incident, include_fields=["status", "resolved_at", "resolution"])
        auditlog.register(IncidentResponse)
        auditlog.register(RuleSetting)
        auditlog.register(FactorRequirement)
        exporter, eraser = personal_data_parts(
            "security",
            "Security incidents",
            (
                PersonalData(
                    "security.Incident", ("security", "network"),
                    ("rule", "summary", "email", "ip_address", "occurred_at", "status"),
                    "Protecting the organisation's accounts: incidents the detection rules raised about the person.",
                    erasure="keep",
                    note="Kept: the record of a security incident is evidence the organisation must keep.",
                ),
                PersonalData(
                    "security.IncidentResponse", ("activity",), ("action", "outcome", "done_at"),
                    "Who responded to each security incident.", erasure="keep",
                    note="Kept with its incident.",
                ),
                PersonalData(
                    "security.FactorRequirement", ("security",), ("created",),
                    "That the person must use a second factor here.",
                ),
                PersonalData(
                    "security.PostureScan", ("activity",), ("checked_at", "score"),
                    "Which security posture checks the person asked for.",
                    note="The check stays (the organisation's record); who asked for it comes off.",
                ),
            ),
        )  # fmt: skip
        register_data_exporter(exporter)
        register_data_eraser(eraser)
