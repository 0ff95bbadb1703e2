"""The data request pages: admins open and answer requests (/compliance/requests/), every member
asks about their own data (/compliance/my-data/), the person confirms a request from an e-mailed
link, and the copy is downloaded from a signed link. Thin: validate, call data_requests, render.

A request is looked up in the tenant's own schema (another tenant's does not exist here: 404); a
member who may not manage compliance sees only the requests about themselves.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission
from apps.tenancy.regions import region_storage

from . import data_requests
from .forms import CompleteForm, DataRequestForm, MyRequestForm, RefuseForm
from .models import DataRequest
from .tables import STATUS_TONES, DataRequestsTable, MyRequestsTable

MANAGE = data_requests.MANAGE


def _manages(request) -> bool:
    return has_permission(request.membership.role, MANAGE)


def _opened_said(request, opened: DataRequest) -> None:
    if opened.status == DataRequest.Status.UNVERIFIED:
        messages.success(
            request, f"Request #{opened.pk} opened. {opened.subject_name} was e-mailed a link to confirm it is theirs."
        )
    elif opened.kind in data_requests.COPIES:
        messages.success(request, f"Request #{opened.pk} opened: the copy is being made.")
    else:
        messages.success(request, f"Request #{opened.pk} opened. It is due by {opened.due_at:%-d %B %Y}.")


def _open(request, form_class, email_field: bool):
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            opened = data_requests.data_request_open(
                tenant=request.tenant,
                actor=request.membership,
                kind=data["kind"],
                law=data["law"],
                details=data["details"],
                email=data["email"] if email_field else "",
                verified_how=data.get("verified_how", ""),
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            _opened_said(request, opened)
            return form, redirect("compliance:request", pk=opened.pk)
    return form, None


@tenant_member_required(MANAGE)
def requests_page(request):
    form, done = _open(request, DataRequestForm, email_field=True)
    if done:
        return done
    table = data_table(request, DataRequestsTable, DataRequest.objects.all(), empty_action=("Open one", "#open"))
    if table.response:
        return table.response
    context = {"table": table, "form": form}
    return render(request, "compliance/requests.html", context, status=400 if form.errors else 200)


@tenant_member_required()
def my_data(request):
    form, done = _open(request, MyRequestForm, email_field=False)
    if done:
        return done
    mine = DataRequest.objects.filter(subject=request.user)
    table = data_table(request, MyRequestsTable, mine, empty_action=("Make one", "#ask"))
    if table.response:
        return table.response
    context = {"table": table, "form": form}
    return render(request, "compliance/my_data.html", context, status=400 if form.errors else 200)


def _request(request, pk) -> DataRequest:
    found = DataRequest.objects.select_related("subject", "opened_by", "completed_by")
    return get_object_or_404(found if _manages(request) else found.filter(subject=request.user), pk=pk)


@tenant_member_required()
def request_page(request, pk, refuse_form=None, complete_form=None, status=200):
    found = _request(request, pk)
    context = {
        "dsr": found,
        "manages": _manages(request),
        "download_url": data_requests.download_url(found) if found.file else "",
        "refuse_form": refuse_form or RefuseForm(),
        "complete_form": complete_form or CompleteForm(),
        "outcome": [(part, count) for part, count in data_requests.outcome_words(found) if count],
        "tone": STATUS_TONES.get(found.status, "neutral"),
        "overdue": not found.finished and found.due_at < timezone.now(),
        "stale": data_requests.is_stale(found),
    }
    if request.headers.get("HX-Request") and request.GET.get("part") == "progress":
        response = render(request, "compliance/_request_progress.html", context)
        if found.status in (DataRequest.Status.DONE, DataRequest.Status.FAILED):
            response["HX-Refresh"] = "true"  # the whole page changes (its state, the certificate)
        return response
    return render(request, "compliance/request.html", context, status=status)


@require_POST
@tenant_member_required(MANAGE)
def request_erase(request, pk):
    found = _request(request, pk)
    try:
        done = data_requests.data_request_erase(tenant=request.tenant, actor=request.membership, request=found)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"Erased: {done.rows:,} records deleted or anonymised; their sessions and API keys ended."
        )
    return redirect("compliance:request", pk=pk)


def _answer(request, pk, form_class, answer, said: str, form_name: str):
    """An admin's answer by a form (a correction's note, a refusal's reason) given to `answer`."""
    found = _request(request, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            answer(tenant=request.tenant, actor=request.membership, request=found, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, said)
            return redirect("compliance:request", pk=pk)
    return request_page(request, pk, status=400, **{form_name: form})


@require_POST
@tenant_member_required(MANAGE)
def request_complete(request, pk):
    said = f"Request #{pk} completed."
    return _answer(request, pk, CompleteForm, data_requests.data_request_complete, said, "complete_form")


@require_POST
@tenant_member_required(MANAGE)
def request_refuse(request, pk):
    said = f"Request #{pk} refused; the person is told why."
    return _answer(request, pk, RefuseForm, data_requests.data_request_refuse, said, "refuse_form")


@require_POST
@tenant_member_required()
def request_retry(request, pk):
    found = _request(request, pk)
    try:
        data_requests.data_request_retry(actor=request.membership, request=found)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("compliance:request", pk=pk)


@tenant_member_required()
def request_certificate(request, pk):
    found = _request(request, pk)
    if not found.finished:
        raise Http404("Not answered yet.")
    pdf = data_requests.certificate_pdf(tenant=request.tenant, request=found)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="data-request-{found.pk}-certificate.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@tenant_member_required()
def request_download(request, token):
    """The signed link names one copy of this tenant and expires; only the person or an admin
    gets the file."""
    try:
        found = data_requests.download_find(token, user=request.user, membership=request.membership)
    except data_requests.LinkExpired:
        return render(request, "compliance/link_expired.html", status=410)
    if found is None or not region_storage().exists(found.file):
        raise Http404("No such file.")
    response = FileResponse(
        region_storage().open(found.file, "rb"), as_attachment=True, filename=f"my-data-{found.pk}.zip"
    )
    response["Content-Type"] = "application/zip"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def request_confirm(request, token):
    """The link e-mailed to the person: no log-in needed (reaching the mailbox is the proof); a
    GET only shows the button, so a mail scanner that follows links confirms nothing."""
    try:
        found = data_requests.confirm_find(token)
    except data_requests.LinkExpired:
        return render(request, "compliance/link_expired.html", status=410)
    if found is None:
        raise Http404("No such request.")
    if request.method == "POST":
        found = data_requests.data_request_confirm(tenant=request.tenant, request=found)
        messages.success(request, "Thank you: your request is confirmed.")
    return render(request, "compliance/request_confirm.html", {"dsr": found})
