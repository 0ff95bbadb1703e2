"""The security pages (admins with `security.incidents`): incidents as a data table, one incident
with its responses, the detection rules, the security posture (the last scan, its findings, the
trend; "Check again"). Thin: validate, call a service, render. An incident is
looked up in the tenant's own schema (another tenant's does not exist here: 404)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required

from . import geo, selectors, services
from .forms import CloseForm, RuleForm
from .models import Action, Incident
from .posture import GRADE_WORDS
from .rules import RULES
from .tables import GRADE_TONES, FindingsTable, IncidentsTable, ScansTable, severity_badge, status_badge

PERMISSION = "security.incidents"


@tenant_member_required(PERMISSION)
def incidents(request):
    table = data_table(request, IncidentsTable, selectors.incident_list())
    if table.response:
        return table.response
    context = {"table": table, "open": selectors.open_counts(), "geo": geo.configured()}
    return render(request, "security/incidents.html", context)


def _incident_page(request, incident, close_form=None, status=200):
    actions = services.actions_for(incident)
    context = {
        "incident": incident,
        "rule": RULES.get(incident.rule),
        "severity": severity_badge(incident.severity),
        "state": status_badge(incident),
        "subject": selectors.subject_user(incident),
        "responses": incident.responses.all(),
        "actions": [(a, Action(a).label) for a in actions],
        "close_form": close_form or CloseForm(),
    }
    return render(request, "security/incident.html", context, status=status)


@tenant_member_required(PERMISSION)
def incident(request, pk):
    return _incident_page(request, get_object_or_404(Incident.objects.select_related("api_key"), pk=pk))


@require_POST
@tenant_member_required(PERMISSION)
def respond(request, pk):
    found = get_object_or_404(Incident, pk=pk)
    action = request.POST.get("action", "")
    try:
        response = services.incident_respond(tenant=request.tenant, incident=found, action=action, actor=request.user)
    except (ValidationError, PermissionDenied) as refused:
        text = " ".join(refused.messages) if isinstance(refused, ValidationError) else str(refused)
        messages.error(request, text)
        return _incident_page(request, found, status=400 if isinstance(refused, ValidationError) else 403)
    messages.success(request, response.outcome)
    return redirect("security:incident", pk=found.pk)


@require_POST
@tenant_member_required(PERMISSION)
def close(request, pk):
    found = get_object_or_404(Incident, pk=pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            services.incident_close(
                tenant=request.tenant, incident=found, actor=request.user,
                status=form.cleaned_data["status"], note=form.cleaned_data["note"],
            )  # fmt: skip
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Incident #{found.pk} closed.")
            return redirect("security:incident", pk=found.pk)
    return _incident_page(request, found, close_form=form, status=400)


def _rules_page(request, failed=None, status=200):
    rows = selectors.rule_rows()
    for row in rows:
        rule = row["rule"]
        if failed is not None and failed.rule.code == rule.code:
            row["form"] = failed
        else:
            row["form"] = RuleForm(rule=rule, initial={"enabled": row["enabled"], "auto_actions": row["auto_actions"]})
    context = {"rows": rows, "geo": geo.configured()}
    return render(request, "security/rules.html", context, status=status)


@tenant_member_required(PERMISSION)
def rules(request):
    return _rules_page(request)


@require_POST
@tenant_member_required(PERMISSION)
def rule_save(request, code):
    rule = RULES.get(code)
    if rule is None:
        raise Http404
    form = RuleForm(request.POST, rule=rule)
    if form.is_valid():
        try:
            services.rule_setting_update(
                tenant=request.tenant, actor=request.user, rule=code, enabled=form.cleaned_data["enabled"],
                auto_actions=form.cleaned_data.get("auto_actions") or [],
            )  # fmt: skip
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"“{rule.label}” saved.")
            return redirect("security:rules")
    return _rules_page(request, failed=form, status=400)


@tenant_member_required(PERMISSION)
def posture(request):
    scans = selectors.posture_scan_list(limit=10)
    last = scans[0] if scans else None
    findings = data_table(request, FindingsTable, last.findings if last else [], prefix="f-")
    if findings.response:
        return findings.response
    history = data_table(request, ScansTable, scans, prefix="h-")
    if history.response:
        return history.response
    context = {
        "last": last,
        "grade_words": GRADE_WORDS.get(last.grade, "") if last else "",
        "grade_tone": GRADE_TONES.get(last.grade, "neutral") if last else "",
        "findings": findings,
        "history": history,
    }
    return render(request, "security/posture.html", context)


@require_POST
@tenant_member_required(PERMISSION)
def posture_check(request):
    scan = services.posture_scan_run(tenant=request.tenant, actor=request.user)
    found = len(scan.findings)
    things = "nothing to fix" if not found else f"{found} thing{'' if found == 1 else 's'} to fix"
    messages.success(request, f"Checked: {scan.score}/100 (grade {scan.grade}), {things}.")
    return redirect("security:posture")
