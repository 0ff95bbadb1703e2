"""The reports pages: reports and exports (jobs with progress), downloads, scheduled reports, BI.

Thin: each view reads a form, calls reports.py / bi.py, and renders from the UI kit. A job or a
scheduled report is looked up in the tenant's own schema (another tenant's does not exist here:
404), and a member sees only their own jobs unless their role may manage everyone's.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission
from apps.identity.selectors import member_list
from apps.tenancy.regions import region_storage

from .. import bi, reports
from ..forms import ExportForm, ReportForm, ScheduledReportForm
from ..models_reports import ReportJob, ScheduledReport
from ..tables import JobsTable, ScheduledReportsTable

BUILD, MANAGE = "analytics.reports.build", "analytics.reports.manage"


def _sees_all(request) -> bool:
    return has_permission(request.membership.role, MANAGE)


def _jobs(request):
    jobs = ReportJob.objects.all()
    return jobs if _sees_all(request) else jobs.filter(requested_by=request.user)


@tenant_member_required(BUILD)
def report_list(request):
    report_form = ReportForm(request.POST if request.POST.get("form") == "report" else None, prefix="report")
    export_form = ExportForm(request.POST if request.POST.get("form") == "export" else None, prefix="export")
    if request.method == "POST":
        try:
            if report_form.is_bound and report_form.is_valid():
                data = report_form.cleaned_data
                job = reports.report_job_create(
                    tenant=request.tenant,
                    actor=request.membership,
                    insight_ids=data["insight_ids"],
                    format=data["format"],
                    title=data["title"],
                )
                return redirect("analytics:report_job", pk=job.pk)
            if export_form.is_bound and export_form.is_valid():
                data = export_form.cleaned_data
                job = reports.export_job_create(
                    tenant=request.tenant,
                    actor=request.membership,
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    format=data["format"],
                )
                return redirect("analytics:report_job", pk=job.pk)
        except ValidationError as exc:
            apply_errors(report_form if report_form.is_bound else export_form, exc)
    table = data_table(
        request, JobsTable, _jobs(request).order_by("-id"), empty_action=("Make a report", "#new-report")
    )
    if table.response:
        return table.response
    failed = report_form.errors or export_form.errors
    context = {"table": table, "report_form": report_form, "export_form": export_form}
    return render(request, "analytics/reports.html", context, status=400 if failed else 200)


def _job(request, pk) -> ReportJob:
    return get_object_or_404(_jobs(request), pk=pk)


@tenant_member_required(BUILD)
def report_job(request, pk):
    job = _job(request, pk)
    context = {"job": job, "download_url": reports.download_url(job) if job.status == job.Status.DONE else ""}
    if request.headers.get("HX-Request") and request.GET.get("part") == "progress":
        return render(request, "analytics/_job_progress.html", context)
    return render(request, "analytics/report_job.html", context)


@require_POST
@tenant_member_required(BUILD)
def report_job_delete(request, pk):
    job = _job(request, pk)
    reports.job_delete(actor=request.membership, job=job)
    messages.success(request, f"“{job.title}” deleted, with its file.")
    return redirect("analytics:reports")


def download(request, token):
    """The signed link is the credential (it can be handed to a tool); it names one file of one
    job of this tenant and expires."""
    try:
        job = reports.download_find(token)
    except reports.LinkExpired:
        return render(request, "analytics/link_expired.html", status=410)
    if job is None or not region_storage().exists(job.file):
        raise Http404("No such file.")
    response = FileResponse(
        region_storage().open(job.file, "rb"), as_attachment=True, filename=reports.download_filename(job)
    )
    response["Content-Type"] = reports.CONTENT_TYPES[job.format]
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Scheduled reports ------------------------------------------------------------------------


def _schedule_form(request, data=None, initial=None):
    members = member_list(tenant=request.tenant).select_related("user")
    zone = request.tenant.time_zone or "UTC"
    return ScheduledReportForm(data, initial=initial, members=members, time_zone=zone)


@tenant_member_required(BUILD)
def scheduled_list(request):
    form = _schedule_form(request, request.POST or None, initial={"recipient_ids": [request.user.pk]})
    if request.method == "POST" and form.is_valid():
        try:
            schedule = reports.scheduled_report_create(
                tenant=request.tenant, actor=request.membership, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"“{schedule.name}” scheduled.")
            return redirect("analytics:scheduled")
    rows = ScheduledReport.objects.all()
    if not _sees_all(request):
        rows = rows.filter(created_by=request.user)
    table = data_table(
        request, ScheduledReportsTable, rows.order_by("name", "id"), empty_action=("Schedule a report", "#new-schedule")
    )
    if table.response:
        return table.response
    status = 400 if form.errors else 200
    return render(request, "analytics/scheduled.html", {"table": table, "form": form}, status=status)


def _schedule(request, pk) -> ScheduledReport:
    rows = ScheduledReport.objects.all()
    if not _sees_all(request):
        rows = rows.filter(created_by=request.user)
    return get_object_or_404(rows, pk=pk)


@tenant_member_required(BUILD)
def scheduled_edit(request, pk):
    schedule = _schedule(request, pk)
    initial = {f: getattr(schedule, f) for f in ("name", "insight_ids", "format", "frequency", "hour", "recipient_ids")}
    form = _schedule_form(request, request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            reports.scheduled_report_update(
                tenant=request.tenant,
                actor=request.membership,
                schedule=schedule,
                is_active=request.POST.get("is_active") == "on",
                **form.cleaned_data,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"“{schedule.name}” saved.")
            return redirect("analytics:scheduled")
    status = 400 if form.errors else 200
    return render(request, "analytics/scheduled_edit.html", {"schedule": schedule, "form": form}, status=status)


@require_POST
@tenant_member_required(BUILD)
def scheduled_delete(request, pk):
    schedule = _schedule(request, pk)
    reports.scheduled_report_delete(actor=request.membership, schedule=schedule)
    messages.success(request, f"“{schedule.name}” will not be sent any more.")
    return redirect("analytics:scheduled")


# --- BI access --------------------------------------------------------------------------------


@tenant_member_required("analytics.bi.manage")
def bi_page(request):
    password = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "grant":
            _, password = bi.bi_access_grant(tenant=request.tenant, actor=request.membership)
        elif action == "rotate" and bi.bi_access():
            password = bi.bi_access_rotate(tenant=request.tenant, actor=request.membership)
        elif action == "revoke":
            bi.bi_access_revoke(tenant=request.tenant, actor=request.membership)
            messages.success(request, "BI access removed: the login no longer works.")
            return redirect("analytics:bi")
        else:
            raise Http404
    access = bi.bi_access()
    context = {
        "access": access,
        "details": bi.connection_details(access) if access else None,
        "password": password,
    }
    response = render(request, "analytics/bi.html", context)
    if password:
        response["Cache-Control"] = "no-store"
    return response
