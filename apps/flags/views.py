"""The flags pages: the list (with the kill switch), a new flag, one flag (its form and rule
builder), its history with rollback, delete. Thin: validate, call a service, render. Viewers see
them; members change them. A POST to /flags/ is PostHog's (posthog.py)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.core.tables import data_table, table_action_done
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission

from . import posthog, selectors, services
from .definitions import definition_of
from .forms import FlagForm, PropertyForm, definition_fields, formsets, initial_of
from .models import DeclaredProperty, Flag
from .tables import DeclaredPropertiesTable, FlagsTable, VersionsTable, status_of

EDIT = "flags.edit"


def _can_edit(request) -> bool:
    return has_permission(request.membership.role, EDIT)


@csrf_exempt  # a POST here is PostHog's /flags/ (its project key is the credential, no session)
def index(request):
    if request.method in ("POST", "OPTIONS"):
        return posthog.remote(request)
    return flag_list(request)


@tenant_member_required("flags.view")
def flag_list(request):
    can_edit = _can_edit(request)
    empty = ("New flag", reverse("flags:new")) if can_edit else None
    table = data_table(request, FlagsTable, selectors.flag_list(), empty_action=empty, can_edit=can_edit)
    if table.response:
        return table.response
    return _index_page(request, table, PropertyForm(), can_edit=can_edit)


def _index_page(request, table, property_form, *, can_edit: bool, status: int = 200):
    properties = data_table(
        request, DeclaredPropertiesTable, selectors.declared_properties(), prefix="p-", can_edit=can_edit
    )
    context = {"table": table, "properties": properties, "property_form": property_form, "can_edit": can_edit}
    return properties.response or render(request, "flags/index.html", context, status=status)


@require_POST
@tenant_member_required(EDIT)
def property_declare(request):
    form = PropertyForm(request.POST)
    if form.is_valid():
        try:
            services.property_declare(tenant=request.tenant, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"Rules may now name “{form.cleaned_data['key']}”.")
            return redirect("flags:index")
    table = data_table(request, FlagsTable, selectors.flag_list(), can_edit=True)
    return _index_page(request, table, form, can_edit=True, status=400)


@require_POST
@tenant_member_required(EDIT)
def property_forget(request, pk):
    declared = get_object_or_404(DeclaredProperty, pk=pk)
    services.property_forget(tenant=request.tenant, actor=request.user, declared=declared)
    messages.success(request, f"“{declared.key}” is no longer declared.")
    return redirect("flags:index")


def _service_errors(exc: ValidationError, form, conditions, groups) -> None:
    """A service's errors on what they name: filters.groups.1.properties.0.value → the second
    group's first condition row; the rest on the form."""
    for field, errors in exc.message_dict.items():
        parts = field.split(".")
        if parts[:2] == ["filters", "groups"] and len(parts) >= 5 and parts[3] == "properties":
            rows = [c for c in conditions.forms if c.cleaned_data and c.rule()]
            in_group = [c for c in rows if c.cleaned_data["group"] == int(parts[2]) + 1]
            if int(parts[4]) < len(in_group):
                name = parts[5] if len(parts) > 5 and parts[5] in ("key", "operator", "value") else None
                in_group[int(parts[4])].add_error(name, errors)
                continue
        target = {"filters.multivariate.variants": "variants", "filters.payloads": "payloads"}.get(field)
        if target is None:
            target = next(
                (
                    n
                    for n in ("key", "starts_at", "ends_at", "overrides", "payloads", "variants")
                    if field.startswith(n) or field.startswith(f"filters.{n}")
                ),
                None,
            )
        form.add_error(target, [f"{field}: {e}" if target is None and field != "__all__" else e for e in errors])


def _edit(request, flag: Flag | None):
    initial, rows, groups = initial_of(definition_of(flag) if flag else None)
    more = 0
    if request.method == "POST" and "more" in request.POST:  # htmx: one more condition row, nothing saved
        form = FlagForm(request.POST)
        conditions, group_forms = formsets(request.POST)
        if form.is_valid() and conditions.is_valid() and group_forms.is_valid():
            _, rows, groups = initial_of(definition_fields(form, conditions, group_forms))
        more = int(request.POST.get("more") or 0) + 1
        conditions, group_forms = formsets(rows=rows, groups=groups, more=more + 2)
        return _form_page(request, flag, form, conditions, group_forms, more=more)
    if request.method != "POST":
        form = FlagForm(initial=initial)
        conditions, group_forms = formsets(rows=rows, groups=groups)
        return _form_page(request, flag, form, conditions, group_forms)
    if not _can_edit(request):
        return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
    form = FlagForm(request.POST)
    conditions, group_forms = formsets(request.POST)
    if form.is_valid() and conditions.is_valid() and group_forms.is_valid():
        fields = definition_fields(form, conditions, group_forms)
        try:
            if flag is None:
                flag = services.flag_create(tenant=request.tenant, actor=request.user, **fields)
                messages.success(request, f"Flag “{flag.key}” created.")
            else:
                flag = services.flag_update(tenant=request.tenant, actor=request.user, flag=flag, **fields)
                messages.success(request, f"Flag “{flag.key}” saved (version {flag.version}).")
        except ValidationError as exc:
            _service_errors(exc, form, conditions, group_forms)
        else:
            return redirect("flags:flag", pk=flag.pk)
    return _form_page(request, flag, form, conditions, group_forms, status=400)


def _form_page(request, flag, form, conditions, groups, status=200, more=0):
    context = {
        "flag": flag,
        "form": form,
        "conditions": conditions,
        "groups": groups,
        "can_edit": _can_edit(request),
        "status": status_of(flag) if flag else None,
        "more": more,
    }
    return render(request, "flags/flag.html", context, status=status)


@tenant_member_required(EDIT)
def flag_new(request):
    return _edit(request, None)


def _flag(pk) -> Flag:
    # Looked up in the tenant's own schema: another tenant's flags do not exist here.
    return get_object_or_404(Flag, pk=pk)


@tenant_member_required("flags.view")
def flag_detail(request, pk):
    return _edit(request, _flag(pk))


@tenant_member_required("flags.view")
def flag_history(request, pk):
    flag = _flag(pk)
    can_edit = _can_edit(request)
    table = data_table(request, VersionsTable, selectors.flag_versions(flag=flag), flag=flag, can_edit=can_edit)
    return table.response or render(request, "flags/history.html", {"flag": flag, "table": table})


@require_POST
@tenant_member_required(EDIT)
def flag_switch(request, pk):
    flag = _flag(pk)
    active = request.POST.get("active") == "on"
    flag = services.flag_switch(tenant=request.tenant, actor=request.user, flag=flag, active=active)
    done = table_action_done(request)
    if done is not None:
        return done
    messages.success(request, f"“{flag.key}” is {'on' if active else 'off for everyone'}.")
    return redirect(request.POST.get("next") or "flags:index")


@require_POST
@tenant_member_required(EDIT)
def flag_rollback(request, pk, version):
    flag = _flag(pk)
    try:
        flag = services.flag_rollback(tenant=request.tenant, actor=request.user, flag=flag, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
    else:
        messages.success(request, f"“{flag.key}” is back to version {version}'s rules (now version {flag.version}).")
    return redirect("flags:history", pk=flag.pk)


@require_POST
@tenant_member_required(EDIT)
def flag_delete(request, pk):
    flag = _flag(pk)
    try:
        services.flag_delete(tenant=request.tenant, actor=request.user, flag=flag)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        return redirect("flags:flag", pk=flag.pk)
    messages.success(request, f"Flag “{flag.key}” deleted.")
    return redirect("flags:index")
