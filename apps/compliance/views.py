"""The compliance pages (admins): the audit trail's integrity (check for tampering, export with its
hashes), where it is forwarded (SIEM). Thin: validate, call a service, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import csv_stream, data_table
from apps.identity.decorators import tenant_member_required

from . import retention, selectors, services
from .chain import EXPORT_COLUMNS, audit_chain_rows
from .forms import HoldForm, PolicyForm, SiemForm
from .models import LegalHold, RetentionPolicy, RetentionRun
from .tables import HoldsTable, InventoryTable, PoliciesTable, RunsTable

MANAGE = "compliance.manage"
AUDIT = "audit.view"  # as the audit log page: whoever reads the log may check and export it


def _page(request, form=None, status=200):
    config = services.siem_settings_get()
    form = form or SiemForm(
        initial={"transport": config.transport, "host": config.host, "port": config.port, "url": config.url}
    )
    context = {
        "form": form,
        "siem": config,
        "trail": selectors.audit_trail_summary(),
        "open_requests": selectors.data_requests_unanswered(),
    }
    return render(request, "compliance/index.html", context, status=status)


@tenant_member_required(MANAGE)
def index(request):
    return _page(request)


@require_POST
@tenant_member_required(AUDIT)
def audit_check(request):
    report = services.audit_check(tenant=request.tenant, actor=request.user)
    if report.ok:
        messages.success(request, f"The audit trail is unbroken: {report.entries:,} entries checked.")
    else:
        messages.error(
            request,
            f"The audit trail was tampered with: it breaks at entry {report.broken_entry} ({report.reason}). "
            f"The {report.entries:,} entries before it are intact.",
        )
    return redirect("audit_log" if request.POST.get("back") == "audit_log" else "compliance:index")


@tenant_member_required(AUDIT)
def audit_export(request):
    """Every entry with its seal, in chain order: evidence an auditor can re-hash on their own."""
    return csv_stream(_export_rows(), "audit-trail")


def _export_rows():
    yield [c.replace("_", " ") for c in EXPORT_COLUMNS]
    for row in audit_chain_rows():
        yield [row[c] for c in EXPORT_COLUMNS]


@require_POST
@tenant_member_required(MANAGE)
def siem(request):
    form = SiemForm(request.POST)
    if form.is_valid():
        try:
            services.siem_settings_update(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "Audit forwarding saved.")
            return redirect("compliance:index")
    return _page(request, form=form, status=400)


@tenant_member_required(MANAGE)
def inventory(request):
    """The data inventory: which records hold personal data, what, why, and what erasure does."""
    table = data_table(request, InventoryTable, selectors.data_inventory())
    return table.response or render(request, "compliance/inventory.html", {"table": table})


@tenant_member_required(MANAGE)
def inventory_json(request):
    """The record of processing activities as JSON (the same rows, with the codes)."""
    body = {
        "organisation": request.tenant.name,
        "generated_at": timezone.now().isoformat(),
        "records": [
            {k: v for k, v in row.items() if k not in ("categories", "erasure")} | {"erasure": row["erasure_code"]}
            for row in selectors.data_inventory()
        ],
    }
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="data-inventory-{timezone.now():%Y%m%d}.json"'
    return response


# --- Retention policies and legal holds -----------------------------------------------------------


def _retention_page(request, policy_form=None, hold_form=None, status=200):
    types = retention.retention_types()
    tables_ = {
        "policies": data_table(request, PoliciesTable, RetentionPolicy.objects.all(), prefix="p-"),
        "holds": data_table(request, HoldsTable, LegalHold.objects.select_related("placed_by"), prefix="h-"),
        "runs": data_table(request, RunsTable, RetentionRun.objects.all(), prefix="r-"),
    }
    for table in tables_.values():
        if table.response:
            return table.response
    context = {
        **tables_,
        "policy_form": policy_form or PolicyForm(types=types, initial={"enabled": True, "age_days": 365}),
        "hold_form": hold_form or HoldForm(types=types),
        "types": [{"label": t.label, "can": _can(t), "note": t.note} for t in types.values()],
    }
    return render(request, "compliance/retention.html", context, status=status)


def _can(kind) -> str:
    """What a kind of record's policy may do to it, in words: "deleted or archived to storage"."""
    words = [retention.DONE[a] + (" to storage" if a == "archive" else "") for a in kind.actions]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


@tenant_member_required(MANAGE)
def retention_page(request):
    if request.method != "POST":
        return _retention_page(request)
    types = retention.retention_types()
    form = PolicyForm(request.POST, types=types)
    if form.is_valid():
        try:
            policy = retention.policy_save(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Retention of {retention.label_of(policy.record_type).lower()} saved.")
            return redirect("compliance:retention")
    return _retention_page(request, policy_form=form, status=400)


def _policy(pk) -> RetentionPolicy:
    return get_object_or_404(RetentionPolicy, pk=pk)


@require_POST
@tenant_member_required(MANAGE)
def retention_apply(request, pk):
    """Preview (a dry run: counts only) or apply a policy now."""
    policy = _policy(pk)
    preview = request.POST.get("preview") == "1"
    run = retention.policy_apply(tenant=request.tenant, policy=policy, dry_run=preview, actor=request.user)
    label = retention.label_of(policy.record_type).lower()
    if run.error:
        messages.error(request, f"Retention of {label} failed: {run.error}")
    elif preview:
        verb = retention.DONE[policy.action]
        messages.info(
            request,
            f"Preview: {run.matched:,} {label} are older than {policy.age_days:,} days; "
            f"{run.matched - run.held:,} would be {verb} and {run.held:,} kept under legal hold. Nothing changed.",
        )
    else:
        messages.success(
            request, f"Retention applied: {run.acted:,} {label} acted on, {run.held:,} kept under legal hold."
        )
    return redirect("compliance:retention")


@require_POST
@tenant_member_required(MANAGE)
def retention_delete(request, pk):
    policy = _policy(pk)
    retention.policy_delete(tenant=request.tenant, actor=request.user, policy=policy)
    messages.success(request, "Retention policy removed: those records are kept until someone deletes them.")
    return redirect("compliance:retention")


@require_POST
@tenant_member_required(MANAGE)
def hold_place(request):
    types = retention.retention_types()
    form = HoldForm(request.POST, types=types)
    if form.is_valid():
        try:
            hold = retention.hold_place(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, f"{types[hold.record_type].label}: record {hold.object_id} is under a legal hold."
            )
            return redirect("compliance:retention")
    return _retention_page(request, hold_form=form, status=400)


@require_POST
@tenant_member_required(MANAGE)
def hold_release(request, pk):
    hold = get_object_or_404(LegalHold, pk=pk)
    try:
        retention.hold_release(tenant=request.tenant, actor=request.user, hold=hold)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Legal hold on record {hold.object_id} released.")
    return redirect("compliance:retention")
