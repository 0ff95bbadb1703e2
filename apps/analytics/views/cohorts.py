"""Cohort pages: the list, a new cohort, one cohort (its rules or listed members, and who is in
it now). Thin: validate, call a service, render. Viewers see them; members build."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission

from .. import selectors, services
from ..forms import CohortForm, MembersAddForm, MembersUploadForm, rule_formsets, rule_words
from ..models import Cohort
from ..tables import CohortsTable, PersonsTable

BUILD = "analytics.cohorts.build"


def _can_build(request) -> bool:
    return has_permission(request.membership.role, BUILD)


@tenant_member_required("analytics.cohorts.view")
def cohort_list(request):
    can_build = _can_build(request)
    empty = ("New cohort", reverse("analytics:cohort_new")) if can_build else None
    table = data_table(request, CohortsTable, selectors.cohort_list(), empty_action=empty, can_build=can_build)
    return table.response or render(request, "analytics/cohorts.html", {"table": table, "can_build": can_build})


def _rules(properties, behaviours) -> tuple[list, list]:
    return (
        [r for f in properties.forms if (r := f.rule())],
        [r for f in behaviours.forms if (r := f.rule())],
    )


def _rule_errors(exc: ValidationError, properties, behaviours, form) -> None:
    """A service's errors on the rows they name (filters.1.value → the second property row)."""
    for field, errors in exc.message_dict.items():
        parts = field.split(".")
        rows = {"filters": properties, "behaviours": behaviours}.get(parts[0])
        if rows is not None and len(parts) == 3 and parts[1].isdigit():
            filled = [f for f in rows.forms if f.rule()]
            if int(parts[1]) < len(filled) and parts[2] in filled[int(parts[1])].fields:
                filled[int(parts[1])].add_error(parts[2], errors)
                continue
        form.add_error(field if field in form.fields else None, errors)


@tenant_member_required(BUILD)
def cohort_new(request):
    form = CohortForm(request.POST or None)
    properties, behaviours = rule_formsets(request.POST or None)
    by_rules = request.POST.get("kind") == Cohort.RULES
    rules_ok = not by_rules or (properties.is_valid() and behaviours.is_valid())
    if request.method == "POST" and form.is_valid() and rules_ok:
        filters, doings = _rules(properties, behaviours) if by_rules else ([], [])
        try:
            cohort = services.cohort_create(
                tenant=request.tenant,
                actor=request.membership,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                kind=form.cleaned_data["kind"],
                filters=filters,
                behaviours=doings,
            )
        except ValidationError as exc:
            _rule_errors(exc, properties, behaviours, form)
        else:
            messages.success(request, f"Cohort “{cohort.name}” created.")
            return redirect("analytics:cohort", pk=cohort.pk)
    context = {"form": form, "properties": properties, "behaviours": behaviours}
    return render(request, "analytics/cohort_new.html", context, status=400 if request.method == "POST" else 200)


def _cohort(pk) -> Cohort:
    # Looked up in the tenant's own schema: another tenant's cohorts do not exist here.
    return get_object_or_404(Cohort, pk=pk)


@tenant_member_required("analytics.cohorts.view")
def cohort_detail(request, pk):
    cohort = _cohort(pk)
    can_build = _can_build(request)
    initial = {"name": cohort.name, "description": cohort.description}
    form = CohortForm(initial=initial, editing=True)
    properties, behaviours = rule_formsets(cohort=cohort)
    status = 200
    if request.method == "POST":
        if not can_build:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        form = CohortForm(request.POST, initial=initial, editing=True)
        properties, behaviours = rule_formsets(request.POST, cohort=cohort)
        rules_ok = cohort.kind == Cohort.STATIC or (properties.is_valid() and behaviours.is_valid())
        if form.is_valid() and rules_ok:
            filters, doings = _rules(properties, behaviours) if cohort.kind == Cohort.RULES else (None, None)
            try:
                services.cohort_update(
                    tenant=request.tenant,
                    actor=request.membership,
                    cohort=cohort,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    filters=filters,
                    behaviours=doings,
                )
            except ValidationError as exc:
                _rule_errors(exc, properties, behaviours, form)
            else:
                messages.success(request, "Cohort saved.")
                return redirect("analytics:cohort", pk=cohort.pk)
        status = 400
    return _detail(request, cohort, form=form, properties=properties, behaviours=behaviours, status=status)


def _detail(request, cohort, *, status=200, **forms):
    can_build = _can_build(request)
    members = data_table(
        request,
        PersonsTable,
        selectors.cohort_persons(cohort=cohort).order_by("-id"),
        cohort=cohort,
        can_remove=can_build and cohort.kind == Cohort.STATIC,
    )
    if members.response:
        return members.response
    context = {
        "cohort": cohort,
        "members": members,
        "can_build": can_build,
        "rule_words": rule_words(cohort),
        "listed": selectors.cohort_listed_count(cohort=cohort) if cohort.kind == Cohort.STATIC else None,
        "add_form": forms.pop("add_form", None) or MembersAddForm(),
        "upload_form": forms.pop("upload_form", None) or MembersUploadForm(),
        **forms,
    }
    if "form" not in context:
        context["form"] = CohortForm(initial={"name": cohort.name, "description": cohort.description}, editing=True)
        context["properties"], context["behaviours"] = rule_formsets(cohort=cohort)
    return render(request, "analytics/cohort.html", context, status=status)


@require_POST
@tenant_member_required(BUILD)
def cohort_action(request, pk, action):
    cohort = _cohort(pk)
    actor, tenant = request.membership, request.tenant
    if action == "delete":
        try:
            services.cohort_delete(tenant=tenant, actor=actor, cohort=cohort)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("analytics:cohort", pk=cohort.pk)
        messages.success(request, f"Cohort “{cohort.name}” deleted.")
        return redirect("analytics:cohorts")
    if action == "add":
        form = MembersAddForm(request.POST)
        if form.is_valid():
            try:
                added = services.cohort_members_add(tenant=tenant, actor=actor, cohort=cohort, distinct_ids=form.ids())
            except ValidationError as exc:
                form.add_error("distinct_ids", exc.messages)
            else:
                messages.success(request, f"{added} distinct id{'s' if added != 1 else ''} added.")
                return redirect("analytics:cohort", pk=cohort.pk)
        return _detail(request, cohort, add_form=form, status=400)
    if action == "upload":
        form = MembersUploadForm(request.POST, request.FILES)
        if form.is_valid():
            content = form.cleaned_data["file"].read(services.MAX_UPLOAD_BYTES + 1)
            try:
                added = services.cohort_members_upload(tenant=tenant, actor=actor, cohort=cohort, content=content)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{added} distinct id{'s' if added != 1 else ''} added from the file.")
                return redirect("analytics:cohort", pk=cohort.pk)
        return _detail(request, cohort, upload_form=form, status=400)
    if action == "remove":
        distinct_id = request.POST.get("distinct_id", "")
        try:
            services.cohort_members_remove(tenant=tenant, actor=actor, cohort=cohort, distinct_ids=[distinct_id])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The person with the id {distinct_id} is out of the cohort.")
        return redirect("analytics:cohort", pk=cohort.pk)
    raise Http404
