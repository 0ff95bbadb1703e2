"""Reports and exports as background jobs; their signed download links; scheduled reports.

A job (ReportJob) is made by `report_job_create` (insights → CSV, Excel or PDF) or
`export_job_create` (raw events of a time range → CSV or Parquet, exports.py), and run by the
task `run_report_job` after commit. The file goes to Django's default storage under the
tenant's own prefix, `analytics/<schema>/…`; the requester gets a notification and the event
`analytics.report_ready` / `analytics.export_ready` is published.

A dashboard's export is the list of its tiles' insights: `report_job_create(insights=[…])`.
"""

import logging
import secrets
import tempfile
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone

from apps.core.events import publish
from apps.core.links import LinkExpired, tenant_link_read, tenant_link_token  # noqa: F401 (LinkExpired: the views')
from apps.core.taskref import TaskRef
from apps.identity.roles import has_permission
from apps.tenancy.regions import region_storage

from . import conf, report_files
from .models import Insight
from .models_reports import EXPORT_FORMATS, REPORT_FORMATS, ReportJob, ScheduledReport
from .queries.shapes import MAX_DAYS

logger = logging.getLogger(__name__)

RUN_JOB = TaskRef("apps.analytics.tasks.run_report_job")
DOWNLOAD_SALT = "analytics.report.download"
MAX_INSIGHTS = 50
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(9998, 12, 31)  # an export's days (the next day must exist too)
PDF_TABLE_ROWS = 200  # the PDF shows this many rows of a table; CSV and Excel hold every row
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "parquet": "application/vnd.apache.parquet",
}


def _zone(tenant) -> ZoneInfo:
    return ZoneInfo(getattr(tenant, "time_zone", "") or "UTC")


def _require(actor, permission: str, message: str) -> None:
    if actor is not None and not has_permission(actor.role, permission):
        raise PermissionDenied(message)


def file_prefix(schema: str | None = None) -> str:
    """Where a tenant's report files live in the default storage."""
    return f"analytics/{schema or connection.schema_name}/reports/"


# --- Creating jobs ----------------------------------------------------------------------------


def _insights_check(insight_ids, field: str = "insight_ids") -> list[Insight]:
    if not isinstance(insight_ids, list | tuple) or not insight_ids:
        raise ValidationError({field: ["Choose at least one insight."]})
    if len(insight_ids) > MAX_INSIGHTS:
        raise ValidationError({field: [f"A report holds at most {MAX_INSIGHTS} insights."]})
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 10**18 for i in insight_ids):
        raise ValidationError({field: ["Give the insights' ids (whole numbers)."]})
    found = Insight.objects.in_bulk(list(insight_ids))
    missing = [str(i) for i in insight_ids if i not in found]
    if missing:
        raise ValidationError({field: [f"No insight with id {', '.join(missing)} in this organisation."]})
    return [found[i] for i in insight_ids]


def _format_check(fmt: str, allowed) -> str:
    if fmt not in [f.value for f in allowed]:
        raise ValidationError({"format": [f"Choose one of: {', '.join(f.value for f in allowed)}."]})
    return fmt


def _enqueue(job: ReportJob) -> None:
    schema = connection.schema_name
    transaction.on_commit(lambda: RUN_JOB.apply_async(args=[job.pk], headers={"_schema_name": schema}))


def report_job_create(*, tenant, actor, insight_ids: list[int], format: str, title: str = "") -> ReportJob:
    """A report of the insights (a dashboard: its tiles' insights, in order), made in the
    background. `actor` is the requesting membership (None: the system)."""
    _require(actor, "analytics.reports.build", "Your role does not allow building reports.")
    fmt = _format_check(format, REPORT_FORMATS)
    insights = _insights_check(insight_ids)
    title = (title or "").strip()[:200] or (insights[0].name if len(insights) == 1 else f"{len(insights)} insights")
    with transaction.atomic():
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.REPORT,
            format=fmt,
            title=title,
            insight_ids=[i.pk for i in insights],
            requested_by=getattr(actor, "user", None),
        )
        _enqueue(job)
    return job


def _day(value, field: str, errors: dict) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        pass
    errors[field] = ["Give a day as YYYY-MM-DD."]
    return None


def export_range_check(date_from, date_to) -> tuple[date, date]:
    errors: dict = {}
    start, end = _day(date_from, "date_from", errors), _day(date_to, "date_to", errors)
    if start is None and "date_from" not in errors:
        errors["date_from"] = ["Give a day as YYYY-MM-DD."]
    if end is None and "date_to" not in errors:
        errors["date_to"] = ["Give a day as YYYY-MM-DD."]
    for field, day in (("date_from", start), ("date_to", end)):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            errors[field] = [f"Give a day from {FIRST_DAY} to {LAST_DAY}."]
    if not errors and end < start:
        errors["date_to"] = ["date_to must be on or after date_from."]
    if not errors and (end - start).days + 1 > MAX_DAYS:
        errors["date_to"] = [f"An export covers at most {MAX_DAYS} days."]
    if errors:
        raise ValidationError(errors)
    return start, end


def export_job_create(*, tenant, actor, date_from, date_to, format: str) -> ReportJob:
    """Raw events of the days date_from…date_to (both included, in the tenant's time zone)."""
    _require(actor, "analytics.reports.build", "Your role does not allow exporting events.")
    fmt = _format_check(format, EXPORT_FORMATS)
    start, end = export_range_check(date_from, date_to)
    with transaction.atomic():
        job = ReportJob.objects.create(
            kind=ReportJob.Kind.EXPORT,
            format=fmt,
            title=f"Events {start.isoformat()} to {end.isoformat()}",
            params={"date_from": start.isoformat(), "date_to": end.isoformat()},
            requested_by=getattr(actor, "user", None),
        )
        _enqueue(job)
    return job


# --- Running them -----------------------------------------------------------------------------


def job_progress(job_id: int, percent: int, rows: int | None = None) -> None:
    """Saves a running job's progress at once (outside any transaction, so its page sees it)."""
    fields = {"progress": max(0, min(100, int(percent)))}
    if rows is not None:
        fields["rows"] = rows
    ReportJob.objects.filter(pk=job_id).update(**fields)


def insights_sections(*, tenant, insights: list[Insight], on_progress=None, today: date | None = None) -> list[dict]:
    """Each insight run (through the query engine and its cache) and turned into a table and a
    chart. With `today`, each query's range is moved to end yesterday, keeping its length (a
    scheduled report shows the latest period)."""
    from .selectors import query_answer

    sections = []
    for n, insight in enumerate(insights):
        query = insight.query if today is None else query_for_period(insight.query, today)
        answer = query_answer(tenant=tenant, data=query)
        kind, result = answer["kind"], answer["result"]
        headers, rows = report_files.result_table(kind, result)
        pdf_headers, pdf_rows = headers, rows
        if len(headers) > 14:  # wide (a day per column): the PDF reads it down the page
            pdf_headers = [headers[0], *(str(r[0]) for r in rows)]
            pdf_rows = [[h, *(r[i + 1] for r in rows)] for i, h in enumerate(headers[1:])]
        sections.append(
            {
                "name": insight.name,
                "description": insight.description,
                "kind": kind,
                "range": f"{query.get('date_from', '')} – {query.get('date_to', '')}",
                "headers": headers,
                "rows": rows,
                "pdf_headers": pdf_headers,
                "table_rows": pdf_rows[:PDF_TABLE_ROWS],
                "truncated": len(pdf_rows) > PDF_TABLE_ROWS,
                "chart": report_files.result_chart(kind, result),
            }
        )
        if on_progress:
            on_progress(int(90 * (n + 1) / len(insights)))
    return sections


def query_for_period(query: dict, today: date) -> dict:
    try:
        start, end = date.fromisoformat(query["date_from"]), date.fromisoformat(query["date_to"])
    except (KeyError, TypeError, ValueError):
        return query
    new_end = today - timedelta(days=1)
    return {**query, "date_from": (new_end - (end - start)).isoformat(), "date_to": new_end.isoformat()}


def report_bytes(*, tenant, title: str, insights: list[Insight], format: str, on_progress=None, today=None) -> bytes:
    sections = insights_sections(tenant=tenant, insights=insights, on_progress=on_progress, today=today)
    if format == "csv":
        return report_files.sections_csv(sections)
    if format == "xlsx":
        return report_files.sections_xlsx(sections)
    made = timezone.localtime(timezone.now(), _zone(tenant)).strftime("%Y-%m-%d %H:%M")
    subtitle = f"{tenant.name} · made {made} ({_zone(tenant).key})"
    for section in sections:
        section["headers"] = section["pdf_headers"]
    return report_files.sections_pdf(title=title, subtitle=subtitle, sections=sections)


def _file_name(job: ReportJob) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in job.title.lower()).strip("-")[:60] or "report"
    return f"{file_prefix()}{job.pk}-{secrets.token_hex(8)}-{safe}.{job.format}"


def report_job_run(*, job_id: int, tenant) -> ReportJob | None:
    """Runs a waiting job (the task calls it): writes its file, then says so to the requester."""
    claimed = ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.QUEUED).update(
        status=ReportJob.Status.RUNNING, started_at=timezone.now(), progress=1
    )
    if not claimed:
        return None  # already run (a task delivered twice), or gone
    job = ReportJob.objects.get(pk=job_id)
    try:
        with tempfile.TemporaryFile() as out:
            if job.kind == ReportJob.Kind.EXPORT:
                from .exports import events_export

                rows = events_export(
                    out,
                    format=job.format,
                    date_from=date.fromisoformat(job.params["date_from"]),
                    date_to=date.fromisoformat(job.params["date_to"]),
                    tz=_zone(tenant),
                    on_progress=lambda pct, n: job_progress(job.pk, pct, n),
                )
            else:
                insights = list(Insight.objects.filter(pk__in=job.insight_ids))
                insights.sort(key=lambda i: job.insight_ids.index(i.pk))
                if not insights:
                    raise ValidationError("Its insights were deleted.")
                data = report_bytes(
                    tenant=tenant,
                    title=job.title,
                    insights=insights,
                    format=job.format,
                    on_progress=lambda pct: job_progress(job.pk, pct),
                )
                out.write(data)
                rows = len(insights)
            out.seek(0)
            name = region_storage().save(_file_name(job), File(out))
            size = region_storage().size(name)
    except Exception as exc:  # noqa: BLE001 — a failed job says why on its page
        logger.exception("analytics: report job %s failed", job_id)
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else "The file could not be made."
        ReportJob.objects.filter(pk=job_id).update(
            status=ReportJob.Status.FAILED, error=message, finished_at=timezone.now()
        )
        return ReportJob.objects.get(pk=job_id)
    with transaction.atomic():
        job.status, job.progress, job.rows = ReportJob.Status.DONE, 100, rows
        job.file, job.file_size, job.finished_at = name, size, timezone.now()
        job.save(update_fields=["status", "progress", "rows", "file", "file_size", "finished_at"])
        _job_done_said(job, tenant)
    return job


def _job_done_said(job: ReportJob, tenant) -> None:
    from apps.notifications.services import notification_create

    event_type = "analytics.export_ready" if job.kind == ReportJob.Kind.EXPORT else "analytics.report_ready"
    payload = {"job_id": job.pk, "title": job.title, "format": job.get_format_display()}
    publish(event_type, payload, tenant=tenant, actor=job.requested_by)
    if job.requested_by_id:
        what = "export" if job.kind == ReportJob.Kind.EXPORT else "report"
        notification_create(
            user_id=job.requested_by_id,
            event_type=event_type,
            title=f"Your {what} “{job.title}” ({job.get_format_display()}) is ready to download",
            url=job_url(job),
        )


def job_url(job: ReportJob) -> str:
    return f"/analytics/reports/jobs/{job.pk}/"


def job_delete(*, actor, job: ReportJob) -> None:
    """Deletes a job and its file (the requester, or an admin)."""
    if actor is not None and job.requested_by_id != actor.user_id:
        _require(actor, "analytics.reports.manage", "Only the member who asked for it, or an admin, can delete it.")
    if job.file:
        region_storage().delete(job.file)
    job.delete()


def report_jobs_prune(*, now: datetime | None = None) -> int:
    """Deletes the jobs (and files) made more than HUB_ANALYTICS_REPORT_KEEP_DAYS ago; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=conf.get("HUB_ANALYTICS_REPORT_KEEP_DAYS"))
    old = list(ReportJob.objects.filter(created__lt=cutoff))
    for job in old:
        if job.file:
            region_storage().delete(job.file)
        job.delete()
    return len(old)


# --- Signed download links --------------------------------------------------------------------


def download_token(job: ReportJob) -> str:
    """A link's token for the job's current file, in this tenant; it works for
    HUB_ANALYTICS_DOWNLOAD_MAX_AGE_SECONDS."""
    return tenant_link_token({"j": job.pk, "f": job.file}, salt=DOWNLOAD_SALT)


def download_url(job: ReportJob) -> str:
    return f"/analytics/reports/download/{download_token(job)}/"


def download_find(token: str) -> ReportJob | None:
    """The finished job a token is for, in the current tenant: None when the token is not one of
    ours, is another tenant's, or names another file than the job's; LinkExpired when old."""
    data = tenant_link_read(token, salt=DOWNLOAD_SALT, max_age=conf.get("HUB_ANALYTICS_DOWNLOAD_MAX_AGE_SECONDS"))
    if data is None:
        return None
    job = ReportJob.objects.filter(pk=data.get("j"), status=ReportJob.Status.DONE).first()
    if job is None or not job.file or job.file != data.get("f") or not job.file.startswith(file_prefix()):
        return None
    return job


def download_filename(job: ReportJob) -> str:
    safe = "".join(c if c.isalnum() or c in "-_ " else "-" for c in job.title).strip() or "report"
    return f"{safe}.{job.format}"


# --- Scheduled reports ------------------------------------------------------------------------


def next_run(*, frequency: str, hour: int, tz: ZoneInfo, after: datetime) -> datetime:
    """The first moment after `after` at `hour` local time on a day the frequency runs: every
    day, Mondays, or the 1st of the month (local days; a time a DST change skips or repeats is
    taken as the zone gives it)."""
    local = after.astimezone(tz)
    day = local.date()
    for _ in range(40):
        runs = (
            frequency == ScheduledReport.Frequency.DAILY
            or (frequency == ScheduledReport.Frequency.WEEKLY and day.weekday() == 0)
            or (frequency == ScheduledReport.Frequency.MONTHLY and day.day == 1)
        )
        if runs:
            moment = datetime.combine(day, time(hour), tzinfo=tz)
            if moment > after:
                return moment
        day += timedelta(days=1)
    raise ValueError(f"no run for {frequency}")  # pragma: no cover — every frequency runs within 32 days


def _schedule_clean(*, name, insight_ids, format, frequency, hour, recipient_ids, tenant) -> dict:
    errors: dict = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the report a name."]
    elif len(name) > 100:
        errors["name"] = ["At most 100 characters."]
    try:
        insights = _insights_check(insight_ids)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        insights = []
    if format not in [f.value for f in REPORT_FORMATS]:
        errors["format"] = [f"Choose one of: {', '.join(f.value for f in REPORT_FORMATS)}."]
    if frequency not in ScheduledReport.Frequency.values:
        errors["frequency"] = [f"Choose one of: {', '.join(ScheduledReport.Frequency.values)}."]
    if not isinstance(hour, int) or isinstance(hour, bool) or not 0 <= hour <= 23:
        errors["hour"] = ["Give an hour from 0 to 23 (in the organisation's time zone)."]
    from apps.identity.selectors import member_list

    members = set(member_list(tenant=tenant, ordered=False).values_list("user_id", flat=True))
    if not isinstance(recipient_ids, list | tuple) or not recipient_ids:
        errors["recipient_ids"] = ["Choose at least one member to send it to."]
    elif not all(isinstance(r, int) and r in members for r in recipient_ids):
        errors["recipient_ids"] = ["Every recipient must be a member of this organisation."]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "insight_ids": [i.pk for i in insights],
        "format": format,
        "frequency": frequency,
        "hour": hour,
        "recipient_ids": sorted(set(recipient_ids)),
    }


def _may_manage(actor, schedule: ScheduledReport) -> None:
    if actor is not None and schedule.created_by_id != actor.user_id:
        _require(actor, "analytics.reports.manage", "Only its author or an admin can change this scheduled report.")


def scheduled_report_create(
    *, tenant, actor, name, insight_ids, format="pdf", frequency="weekly", hour=8, recipient_ids=()
) -> ScheduledReport:
    _require(actor, "analytics.reports.build", "Your role does not allow scheduling reports.")
    data = _schedule_clean(
        name=name,
        insight_ids=insight_ids,
        format=format,
        frequency=frequency,
        hour=hour,
        recipient_ids=list(recipient_ids),
        tenant=tenant,
    )
    data["next_run_at"] = next_run(
        frequency=data["frequency"], hour=data["hour"], tz=_zone(tenant), after=timezone.now()
    )
    return ScheduledReport.objects.create(created_by=getattr(actor, "user", None), **data)


def scheduled_report_update(*, tenant, actor, schedule: ScheduledReport, **changes) -> ScheduledReport:
    _may_manage(actor, schedule)
    fields = ("name", "insight_ids", "format", "frequency", "hour", "recipient_ids")
    current = {f: getattr(schedule, f) for f in fields}
    current.update({k: v for k, v in changes.items() if k in fields and v is not None})
    data = _schedule_clean(tenant=tenant, **current)
    for key, value in data.items():
        setattr(schedule, key, value)
    if "is_active" in changes and changes["is_active"] is not None:
        schedule.is_active = bool(changes["is_active"])
    schedule.next_run_at = next_run(
        frequency=schedule.frequency, hour=schedule.hour, tz=_zone(tenant), after=timezone.now()
    )
    schedule.save()
    return schedule


def scheduled_report_delete(*, actor, schedule: ScheduledReport) -> None:
    _may_manage(actor, schedule)
    schedule.delete()


def scheduled_reports_run_due(*, tenant, now: datetime | None = None) -> int:
    """Sends every active scheduled report whose time has come (each once: its next run is moved
    on before it is sent, under a row lock other workers skip). Returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            schedule = (
                ScheduledReport.objects.select_for_update(skip_locked=True)
                .filter(is_active=True, next_run_at__lte=now)
                .order_by("next_run_at", "id")
                .first()
            )
            if schedule is None:
                return sent
            schedule.last_run_at = now
            schedule.next_run_at = next_run(
                frequency=schedule.frequency, hour=schedule.hour, tz=_zone(tenant), after=now
            )
            schedule.save(update_fields=["last_run_at", "next_run_at"])
        try:
            scheduled_report_send(tenant=tenant, schedule=schedule, today=now.astimezone(_zone(tenant)).date())
        except Exception:  # noqa: BLE001 — one broken report must not stop the others
            logger.exception("analytics: scheduled report %s failed", schedule.pk)
            ScheduledReport.objects.filter(pk=schedule.pk).update(last_error="The report could not be made or sent.")
        else:
            ScheduledReport.objects.filter(pk=schedule.pk).update(last_error="")
            sent += 1


def scheduled_report_send(*, tenant, schedule: ScheduledReport, today: date) -> int:
    """Makes the report (its insights' ranges moved to end yesterday) and e-mails it, attached,
    in the organisation's branded layout to each recipient still a member and active."""
    from django.template.loader import render_to_string

    from apps.identity.selectors import member_list
    from apps.tenancy.emails import email_message, email_subject
    from apps.tenancy.services import tenant_url

    insights = list(Insight.objects.filter(pk__in=schedule.insight_ids))
    insights.sort(key=lambda i: schedule.insight_ids.index(i.pk))
    if not insights:
        raise ValidationError("Its insights were deleted.")
    data = report_bytes(tenant=tenant, title=schedule.name, insights=insights, format=schedule.format, today=today)
    members = member_list(tenant=tenant, ordered=False).filter(user_id__in=schedule.recipient_ids, user__is_active=True)
    emails = sorted({m.user.email for m in members.select_related("user") if m.user.email})
    if not emails:
        return 0
    context = {
        "schedule": schedule,
        "insights": insights,
        "tenant": tenant,
        "format": schedule.get_format_display(),
        "frequency": schedule.get_frequency_display(),
        "manage_url": tenant_url(tenant, "/analytics/reports/scheduled/"),
    }
    text = render_to_string("analytics/email/scheduled_report.txt", context)
    filename = f"{schedule.name} {today.isoformat()}.{schedule.format}".replace("/", "-")
    for email in emails:  # one message each: recipients do not see each other's addresses
        message = email_message(
            subject=email_subject(schedule.name, tenant),
            to=[email],
            text=text,
            tenant=tenant,
            headers={"Auto-Submitted": "auto-generated"},
        )
        message.attach(filename, data, CONTENT_TYPES[schedule.format].split(";")[0])
        message.send()
    return len(emails)
