"""The monthly compliance report: a PDF (WeasyPrint) with the evidence an organisation shows its
customers and auditors — members and roles, second-factor and SSO coverage, the latest access
review, API keys and their age, retention policies, data requests, the audit trail's volume and
chain status, security incidents and the latest security posture score. Celery beat makes last
month's on the first days of each month (once); an admin can make one for any past month. Files
live in the tenant's region's storage under its own prefix; the page serves them to admins only."""

import logging
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from apps.api.models import ApiKey
from apps.core.events import publish
from apps.core.taskref import TaskRef
from apps.identity.mfa import tenant_security_get, user_has_factor
from apps.identity.models import Membership
from apps.identity.roles import Role, has_permission
from apps.security.selectors import incident_list, posture_scan_last
from apps.tenancy.regions import region_storage

from .chain import audit_chain_verify
from .models import AccessReview, ComplianceReport, DataRequest, RetentionPolicy, SiemSettings
from .retention import label_of

log = logging.getLogger(__name__)
MANAGE = "compliance.manage"
BUILD = TaskRef("apps.compliance.tasks.compliance_report_build")


def file_prefix(schema: str | None = None) -> str:
    return f"compliance/{schema or connection.schema_name}/reports/"


def month_of(day: date) -> tuple[date, date]:
    """The first and last day of the month `day` is in."""
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def report_request(*, tenant, actor=None, month: date | None = None) -> ComplianceReport:
    """A report of `month` (default: last month), made in the background. Refused for a month
    that has not ended."""
    if actor is not None and not has_permission(actor.role, MANAGE):
        raise PermissionDenied("Your role does not allow compliance reports.")
    today = timezone.localdate()
    start, end = month_of(month or (today.replace(day=1) - timedelta(days=1)))
    if end >= today:
        raise ValidationError({"month": ["Choose a month that has ended."]})
    with transaction.atomic():
        report = ComplianceReport.objects.create(
            period_start=start, period_end=end, requested_by=getattr(actor, "user", None)
        )
        schema = connection.schema_name
        transaction.on_commit(lambda: BUILD.apply_async(args=[report.pk], headers={"_schema_name": schema}))
    return report


def reports_monthly(*, tenant, today: date | None = None) -> ComplianceReport | None:
    """Beat, daily: last month's report, once (None when it exists already)."""
    today = today or timezone.localdate()
    start, _ = month_of(today.replace(day=1) - timedelta(days=1))
    if ComplianceReport.objects.filter(period_start=start).exclude(status=ComplianceReport.Status.FAILED).exists():
        return None
    return report_request(tenant=tenant, month=start)


def _bounds(report: ComplianceReport, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(report.period_start, time(), tzinfo=tz),
        datetime.combine(report.period_end + timedelta(days=1), time(), tzinfo=tz),
    )


def evidence(*, tenant, report: ComplianceReport) -> dict:
    """Everything the report shows, read from the tenant's schema now (and the month's activity)."""
    tz = ZoneInfo(getattr(tenant, "time_zone", "") or "UTC")
    start, end = _bounds(report, tz)
    now = timezone.now()
    members = list(Membership.objects.filter(tenant=tenant).select_related("user").order_by("role", "user__email"))
    with_factor = [m for m in members if user_has_factor(user=m.user)]
    roles = {label: sum(1 for m in members if m.role == value) for value, label in Role.choices}
    policy = tenant_security_get(tenant=tenant)
    keys = [
        {
            "name": k.name,
            "prefix": k.prefix,
            "scopes": ", ".join(k.scopes) or "—",
            "age_days": (now - k.created).days,
            "last_used_at": k.last_used_at,
            "expires_at": k.expires_at,
        }
        for k in ApiKey.objects.filter(revoked_at__isnull=True).order_by("created")
    ]
    requests = DataRequest.objects.filter(opened_at__lt=end)
    chain = audit_chain_verify()
    incidents = incident_list().filter(raised_at__gte=start, raised_at__lt=end)
    return {
        "tenant": tenant,
        "report": report,
        "made_at": timezone.localtime(now, tz),
        "zone": tz.key,
        "members": members,
        "roles": roles,
        "factor_share": round(100 * len(with_factor) / len(members)) if members else 100,
        "without_factor": [m for m in members if m not in with_factor],
        "mfa_required": policy.mfa_required,
        "sso_enabled": policy.sso_enabled,
        "sso_enforced": policy.sso_enforced,
        "review": AccessReview.objects.filter(completed_at__lt=end).first() or AccessReview.objects.first(),
        "keys": keys,
        "old_keys": sum(1 for k in keys if k["age_days"] > 365),
        "policies": [
            {"label": label_of(p.record_type), "age_days": p.age_days, "action": p.action, "enabled": p.enabled}
            for p in RetentionPolicy.objects.all()
        ],
        "requests_opened": requests.filter(opened_at__gte=start).count(),
        "requests_answered": requests.filter(completed_at__gte=start, completed_at__lt=end).count(),
        "requests_open": requests.filter(Q(completed_at__isnull=True) | Q(completed_at__gte=end)).count(),
        "requests_late": requests.filter(
            Q(completed_at__isnull=True, due_at__lt=min(end, now)) | Q(completed_at__gt=F("due_at"))
        ).count(),
        "audit_entries": LogEntry.objects.filter(timestamp__gte=start, timestamp__lt=end).count(),
        "chain": chain,
        "siem": (SiemSettings.objects.first() or SiemSettings()).get_transport_display(),
        "incidents": list(incidents.order_by("-raised_at")[:20]),
        "posture": posture_scan_last(),
        "incident_counts": dict(incidents.values_list("severity").annotate(n=Count("pk"))),
    }


def report_pdf(context: dict) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_to_string("compliance/report_pdf.html", context)).write_pdf()


def report_build(*, report_id: int, tenant) -> ComplianceReport | None:
    """Makes a waiting report's PDF (the task calls it)."""
    claimed = ComplianceReport.objects.filter(pk=report_id, status=ComplianceReport.Status.QUEUED).update(
        status=ComplianceReport.Status.RUNNING
    )
    if not claimed:
        return None
    report = ComplianceReport.objects.get(pk=report_id)
    try:
        pdf = report_pdf(evidence(tenant=tenant, report=report))
        name = region_storage().save(
            f"{file_prefix()}{report.period_start:%Y-%m}-{secrets.token_hex(6)}.pdf", ContentFile(pdf)
        )
    except Exception:  # noqa: BLE001 — a failed report says so on the page and can be asked again
        log.exception("compliance: report %s failed", report_id)
        ComplianceReport.objects.filter(pk=report_id).update(
            status=ComplianceReport.Status.FAILED, error="The report could not be made.", finished_at=timezone.now()
        )
        return ComplianceReport.objects.get(pk=report_id)
    with transaction.atomic():
        report.status, report.file, report.file_size = ComplianceReport.Status.DONE, name, len(pdf)
        report.finished_at = timezone.now()
        report.save(update_fields=["status", "file", "file_size", "finished_at"])
        payload = {"report_id": report.pk, "month": f"{report.period_start:%Y-%m}"}
        publish("compliance.report_ready", payload, tenant=tenant)
    return report
