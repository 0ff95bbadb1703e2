"""The insights pages: the list (a data table), the builder of each kind (a server-rendered form
that builds the query JSON, runs it, and saves it), an insight with its chart and table, rename
and delete (the kit's confirm dialog), and adding it to a dashboard."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from apps.core.tables import data_table, table_action_done
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission

from .. import charts, selectors, services
from ..builder import KIND_HELP, KIND_WORDS, Builder, default_query
from ..insight_tables import InsightsTable
from .dashboards import picked, tile_added


def _can(request, permission: str) -> bool:
    return has_permission(request.membership.role, permission)


@tenant_member_required("analytics.insights.view")
def insight_list(request):
    can_build = _can(request, "analytics.insights.build")
    table = data_table(
        request,
        InsightsTable,
        selectors.insight_list(),
        empty_action=("Build an insight", "#new-insight") if can_build else None,
        can_build=can_build,
    )
    if table.response:
        return table.response
    kinds = [(kind, KIND_WORDS[kind], KIND_HELP[kind]) for kind in KIND_WORDS]
    return render(request, "analytics/insights.html", {"table": table, "kinds": kinds, "can_build": can_build})


def _answer(request, builder: Builder) -> dict | None:
    """Runs the builder's query; the engine's errors go under their fields (None then)."""
    query = builder.query()
    try:
        answer = selectors.query_answer(tenant=request.tenant, data=query)
    except ValidationError as exc:
        builder.apply_errors(exc)
        return None
    return {**answer, **charts.present(query, answer["result"])}


def _saved_answer(request, query: dict) -> dict | None:
    """The answer to a query as saved (a page shown before any form is sent), or None when it no
    longer holds (the form then says to fix it and run it)."""
    try:
        answer = selectors.query_answer(tenant=request.tenant, data=query)
    except ValidationError:
        return None
    return {**answer, **charts.present(query, answer["result"])}


def _builder_page(request, builder: Builder, *, insight=None, answer=None, status=200):
    context = {
        "builder": builder,
        "kind_word": KIND_WORDS[builder.kind],
        "kind_help": KIND_HELP[builder.kind],
        "insight": insight,
        "answer": answer,
        "can_build": _can(request, "analytics.insights.build"),
        "dashboards": list(selectors.dashboard_list())
        if insight and _can(request, "analytics.dashboards.build")
        else [],
    }
    return render(request, "analytics/insight.html", context, status=status)


@tenant_member_required("analytics.insights.view")
def insight_new(request, kind):
    if kind not in KIND_WORDS:
        raise Http404
    if request.method != "POST":
        builder = Builder(kind)
        return _builder_page(request, builder, answer=_saved_answer(request, default_query(kind)))
    builder = Builder(kind, data=request.POST)
    if not builder.is_valid():
        return _builder_page(request, builder, status=400)
    answer = _answer(request, builder)
    if answer is None:
        return _builder_page(request, builder, status=400)
    if "save" not in request.POST:
        return _builder_page(request, builder, answer=answer)
    data = builder.form.cleaned_data
    try:
        insight = services.insight_create(
            tenant=request.tenant,
            actor=request.membership,
            name=data["name"],
            query=builder.query(),
            description=data.get("description", ""),
        )
    except ValidationError as exc:
        builder.apply_errors(exc)
        return _builder_page(request, builder, answer=answer, status=400)
    messages.success(request, f"The insight “{insight.name}” was saved.")
    return redirect("analytics:insight", pk=insight.pk)


@tenant_member_required("analytics.insights.view")
def insight_detail(request, pk):
    insight = get_object_or_404(selectors.insight_list(), pk=pk)
    kind = insight.query.get("kind")
    if kind not in KIND_WORDS:
        raise Http404
    if request.method != "POST":
        builder = Builder(kind, query=insight.query, name=insight.name, description=insight.description)
        return _builder_page(request, builder, insight=insight, answer=_saved_answer(request, insight.query))
    builder = Builder(kind, data=request.POST, query=insight.query)
    if not builder.is_valid():
        return _builder_page(request, builder, insight=insight, status=400)
    answer = _answer(request, builder)
    if answer is None:
        return _builder_page(request, builder, insight=insight, status=400)
    if "save" not in request.POST:
        return _builder_page(request, builder, insight=insight, answer=answer)
    data = builder.form.cleaned_data
    try:
        services.insight_update(
            tenant=request.tenant,
            actor=request.membership,
            insight=insight,
            name=data["name"],
            query=builder.query(),
            description=data.get("description", ""),
        )
    except ValidationError as exc:
        builder.apply_errors(exc)
        return _builder_page(request, builder, insight=insight, answer=answer, status=400)
    messages.success(request, f"The insight “{insight.name}” was saved.")
    return redirect("analytics:insight", pk=insight.pk)


@require_POST
@tenant_member_required("analytics.insights.build")
def insight_delete(request, pk):
    insight = get_object_or_404(selectors.insight_list(), pk=pk)
    services.insight_delete(tenant=request.tenant, actor=request.membership, insight=insight)
    messages.success(request, f"The insight “{insight.name}” was deleted.")
    return table_action_done(request) or redirect("analytics:insights")


@require_POST
@tenant_member_required("analytics.dashboards.build")
def insight_to_dashboard(request, pk):
    insight = get_object_or_404(selectors.insight_list(), pk=pk)
    dashboard = picked(selectors.dashboard_list(), request.POST.get("dashboard", ""))
    if not tile_added(request, dashboard, insight):
        return redirect("analytics:insight", pk=insight.pk)
    return redirect("analytics:dashboard", pk=dashboard.pk)
