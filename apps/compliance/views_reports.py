"""The access review and the monthly compliance reports (admins). Thin: validate, call reviews.py
and report.py, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.tenancy.regions import region_storage

from . import report, reviews
from .forms import ReportForm
from .models import AccessReviewItem, ComplianceReport
from .tables import ReportsTable, ReviewItemsTable

MANAGE = reviews.MANAGE


@tenant_member_required(MANAGE)
def access_review(request):
    if request.method == "POST":
        reviews.review_open(tenant=request.tenant, actor=request.membership)
        return redirect("compliance:access_review")
    review = reviews.review_current()
    context = {"review": review}
    if review is not None:
        items = review.items.select_related("review")
        table = data_table(request, ReviewItemsTable, items)
        if table.response:
            return table.response
        pending = items.filter(decision=AccessReviewItem.Decision.PENDING).count()
        context.update(table=table, total=items.count(), pending=pending)
    return render(request, "compliance/access_review.html", context)


@require_POST
@tenant_member_required(MANAGE)
def access_review_decide(request, pk):
    item = get_object_or_404(AccessReviewItem.objects.select_related("review"), pk=pk)
    try:
        item = reviews.item_decide(
            tenant=request.tenant, actor=request.membership, item=item, decision=request.POST.get("decision", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{item.name}: {item.get_decision_display().lower()}.")
    return redirect("compliance:access_review")


@tenant_member_required(MANAGE)
def reports_page(request):
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            made = report.report_request(
                tenant=request.tenant, actor=request.membership, month=form.cleaned_data["month"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"The report of {made.period_start:%B %Y} is being made.")
            return redirect("compliance:reports")
    reports = ComplianceReport.objects.all()
    underway = reports.filter(status__in=[ComplianceReport.Status.QUEUED, ComplianceReport.Status.RUNNING]).exists()
    table = data_table(request, ReportsTable, reports, poll_seconds=2 if underway else 0)
    if table.response:
        return table.response
    return render(
        request, "compliance/reports.html", {"table": table, "form": form}, status=400 if form.errors else 200
    )


@tenant_member_required(MANAGE)
def report_download(request, pk):
    found = get_object_or_404(ComplianceReport, pk=pk, status=ComplianceReport.Status.DONE)
    if not found.file.startswith(report.file_prefix()) or not region_storage().exists(found.file):
        raise Http404("No such file.")
    response = FileResponse(
        region_storage().open(found.file, "rb"),
        as_attachment=True,
        filename=f"compliance-report-{found.period_start:%Y-%m}.pdf",
        content_type="application/pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response
