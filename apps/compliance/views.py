"""The compliance pages (admins): the audit trail's integrity (check for tampering, export with its
hashes), where it is forwarded (SIEM). Thin: validate, call a service, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.core.tables import csv_stream, data_table
from apps.identity.decorators import tenant_member_required

from . import selectors, services
from .chain import EXPORT_COLUMNS, audit_chain_rows
from .forms import SiemForm
from .tables import InventoryTable

MANAGE = "compliance.manage"
AUDIT = "audit.view"  # as the audit log page: whoever reads the log may check and export it


def _page(request, form=None, status=200):
    config = services.siem_settings_get()
    form = form or SiemForm(
        initial={"transport": config.transport, "host": config.host, "port": config.port, "url": config.url}
    )
    context = {"form": form, "siem": config, "trail": selectors.audit_trail_summary()}
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
