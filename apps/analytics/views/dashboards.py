"""The dashboards pages: the list (a data table) with a form to make one, a dashboard (its tiles
on a 12-column grid, arranged by drag and drop or the tiles' buttons, the layout saved by
fetch), its date range and filter for every tile, its settings, its read-only link, and the
shared page that link opens (no log-in, no navigation, nothing but the dashboard)."""

import functools
import json

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import data_table, table_action_done
from apps.identity.decorators import tenant_member_required
from apps.identity.roles import has_permission

from .. import charts, selectors, services, tile_cache
from ..builder import OP_WORDS, TARGET, filter_value
from ..dashboards import RANGE_WORDS
from ..insight_tables import DashboardsTable
from ..models_reports import REPORT_FORMAT_CHOICES
from ..queries.shapes import OPS

RANGES = [(k, v) for k, v in RANGE_WORDS.items() if k]


class DashboardForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)
    description = forms.CharField(
        label="Description", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    date_range = forms.ChoiceField(label="Dates", choices=list(RANGE_WORDS.items()), initial="30d")


class OverrideForm(forms.Form):
    """The dashboard page's date range and filter for every tile (GET; empty: the dashboard's own)."""

    range = forms.ChoiceField(
        label="Dates",
        required=False,
        choices=[("", "The dashboard's dates"), *RANGES, ("all", "Each insight's own"), ("custom", "From … to …")],
    )
    date_from = forms.DateField(label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    f_type = forms.ChoiceField(label="Filter on", required=False, choices=TARGET)
    f_key = forms.CharField(label="Property", required=False, max_length=200)
    f_op = forms.ChoiceField(label="Condition", required=False, choices=[(op, OP_WORDS[op]) for op in OPS])
    f_value = forms.CharField(label="Value", required=False, max_length=1000)

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            if not data.get("date_from"):
                self.add_error("date_from", "Give the first day.")
            if not data.get("date_to"):
                self.add_error("date_to", "Give the last day.")
            if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
                self.add_error("date_to", "The last day must be on or after the first.")
            elif data.get("date_from") and data.get("date_to") and (data["date_to"] - data["date_from"]).days >= 366:
                self.add_error("date_to", "Choose at most 366 days.")
        return data

    def overrides(self, dashboard) -> selectors.Overrides:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        choice = data.get("range") or ""
        filters = None
        if (data.get("f_key") or "").strip():
            op = data.get("f_op") or "eq"
            item = {"type": data.get("f_type") or "event", "key": data["f_key"].strip(), "op": op}
            if op not in ("is_set", "is_not_set"):
                item["value"] = filter_value(data.get("f_value") or "", op)
            filters = [*dashboard.filters, item]
        if choice == "custom":
            return selectors.dashboard_overrides(
                dashboard=dashboard,
                date_from=data["date_from"].isoformat(),
                date_to=data["date_to"].isoformat(),
                filters=filters,
            )
        date_range = {"": None, "all": ""}.get(choice, choice)
        return selectors.dashboard_overrides(dashboard=dashboard, date_range=date_range, filters=filters)


def _can(request, permission: str) -> bool:
    return has_permission(request.membership.role, permission)


@tenant_member_required("analytics.dashboards.view")
def dashboard_list(request):
    can_build = _can(request, "analytics.dashboards.build")
    form = DashboardForm()
    if request.method == "POST":
        if not can_build:
            return render(request, "identity/forbidden.html", {"reason": "role"}, status=403)
        form = DashboardForm(request.POST)
        if form.is_valid():
            try:
                dashboard = services.dashboard_create(
                    tenant=request.tenant, actor=request.membership, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(
                    request, f"The dashboard “{dashboard.name}” was created. Add insights to it from their pages."
                )
                return redirect("analytics:dashboard", pk=dashboard.pk)
    else:
        services.dashboard_default_ensure()  # a schema the data migration did not reach
    table = data_table(
        request,
        DashboardsTable,
        selectors.dashboard_list(),
        empty_action=("Create a dashboard", "#new-dashboard") if can_build else None,
        can_build=can_build,
    )
    if table.response:
        return table.response
    status = 400 if form.is_bound else 200
    return render(
        request, "analytics/dashboards.html", {"table": table, "form": form, "can_build": can_build}, status=status
    )


def _tiles(request, dashboard, overrides, *, tile_url):
    """The tiles with their bodies' HTML: from the tile cache (one read for all of them) or drawn
    now, and kept for the next view (`item["view"]` is what was drawn, None when cached)."""
    tiles = selectors.dashboard_tiles(dashboard=dashboard)
    keys = tile_cache.keys(tenant=request.tenant, tiles=tiles, overrides=overrides)
    found = tile_cache.get_many(keys)
    items, fresh = [], {}
    for tile, key in zip(tiles, keys, strict=True):
        item = {"tile": tile, "url": tile_url(tile), "view": None, "html": found.get(key)}
        if item["html"] is None:
            item["view"] = _tile_view(request, tile, overrides)
            item["html"] = render_to_string("analytics/_tile_body.html", {"item": item})
            if "error" not in item["view"]:
                fresh[key] = item["html"]
        item["html"] = mark_safe(item["html"])  # noqa: S308 - our own template's output
        items.append(item)
    tile_cache.set_many(fresh)
    return items


def _tile_view(request, tile, overrides) -> dict:
    answer = selectors.tile_answer(tenant=request.tenant, tile=tile, overrides=overrides)
    if "error" in answer:
        return {"error": answer["error"]}
    query = selectors.tile_query(tile=tile, overrides=overrides)
    return {**charts.present(query, answer["result"]), "chart_id": f"tile-chart-{tile.pk}", "cached": answer["cached"]}


@functools.cache
def _override_fields_blank() -> str:
    """The override form's fields with nothing chosen (the page as it is mostly opened): the same
    HTML every time, so drawn once per process (the form renderer's templates took ~10 % of a
    warm dashboard page)."""
    return "".join(str(field.as_field_group()) for field in OverrideForm(None))


def _overrides_of(request, dashboard):
    form = OverrideForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, selectors.dashboard_overrides(dashboard=dashboard)
    return form, form.overrides(dashboard)


def _query_string(request) -> str:
    keep = {k: v for k, v in request.GET.items() if k in OverrideForm.base_fields and v}
    return urlencode(keep)


@never_cache
@tenant_member_required("analytics.dashboards.view")
def dashboard_detail(request, pk):
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    form, overrides = _overrides_of(request, dashboard)
    qs = _query_string(request)
    tiles = _tiles(
        request,
        dashboard,
        overrides,
        tile_url=lambda t: reverse("analytics:dashboard_tile", args=[dashboard.pk, t.pk]) + (f"?{qs}" if qs else ""),
    )
    can_build = _can(request, "analytics.dashboards.build")
    token = selectors.share_token(dashboard=dashboard) if can_build else ""
    context = {
        "dashboard": dashboard,
        "tiles": tiles,
        "override_form": form,
        "override_fields": "" if form.is_bound else mark_safe(_override_fields_blank()),  # noqa: S308 - our form's
        "overrides": overrides,
        "can_build": can_build,
        "can_export": _can(request, "analytics.reports.build"),
        "export_formats": REPORT_FORMAT_CHOICES,
        "settings_form": DashboardForm(
            initial={"name": dashboard.name, "description": dashboard.description, "date_range": dashboard.date_range}
        ),
        "share_url": request.build_absolute_uri(reverse("analytics:dashboard_shared", args=[token])) if token else "",
        "layout_url": reverse("analytics:dashboard_layout", args=[dashboard.pk]),
        "insights": list(selectors.insight_list().values("pk", "name")) if can_build else [],
    }
    return render(request, "analytics/dashboard.html", context, status=200 if not form.errors else 400)


@never_cache
@tenant_member_required("analytics.dashboards.view")
def dashboard_tile(request, pk, tile_pk):
    """One tile's chart and table (htmx re-fetches it when new events arrive)."""
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    tile = get_object_or_404(dashboard.tiles.select_related("insight"), pk=tile_pk)
    _, overrides = _overrides_of(request, dashboard)
    return render(
        request, "analytics/_tile_body.html", {"item": {"tile": tile, "view": _tile_view(request, tile, overrides)}}
    )


@require_POST
@tenant_member_required("analytics.dashboards.build")
def dashboard_layout(request, pk):
    """Saves the layout the page sends as JSON: {"layout": [{"id", "x", "y", "w", "h"}, …]}."""
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"errors": {"layout": ["Send the layout as JSON."]}}, status=400)
    layout = body.get("layout") if isinstance(body, dict) else None
    try:
        tiles = services.dashboard_layout_save(
            tenant=request.tenant, actor=request.membership, dashboard=dashboard, layout=layout
        )
    except ValidationError as exc:
        return JsonResponse({"errors": exc.message_dict}, status=400)
    return JsonResponse({"layout": [{"id": t.pk, "x": t.x, "y": t.y, "w": t.w, "h": t.h} for t in tiles]})


@require_POST
@tenant_member_required("analytics.dashboards.build")
def dashboard_settings(request, pk):
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    form = DashboardForm(request.POST)
    if form.is_valid():
        try:
            services.dashboard_update(
                tenant=request.tenant, actor=request.membership, dashboard=dashboard, **form.cleaned_data
            )
        except ValidationError as exc:
            apply_errors(form, exc)
    if form.errors:
        messages.error(
            request, "The dashboard was not changed: " + " ".join(e for es in form.errors.values() for e in es)
        )
    else:
        messages.success(request, f"The dashboard “{dashboard.name}” was saved.")
    return redirect("analytics:dashboard", pk=dashboard.pk)


@require_POST
@tenant_member_required("analytics.dashboards.build")
def dashboard_share(request, pk):
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    action = request.POST.get("action")
    if action == "off":
        services.dashboard_unshare(tenant=request.tenant, actor=request.membership, dashboard=dashboard)
        messages.success(request, "The read-only link was turned off: it no longer opens the dashboard.")
    elif action in ("on", "rotate"):
        services.dashboard_share(
            tenant=request.tenant, actor=request.membership, dashboard=dashboard, rotate=action == "rotate"
        )
        messages.success(
            request,
            "A new read-only link was made: the old one no longer works."
            if action == "rotate"
            else "Anyone with the link can now see this dashboard.",
        )
    else:
        messages.error(request, "Choose to turn the link on, replace it or turn it off.")
    return redirect("analytics:dashboard", pk=dashboard.pk)


@require_POST
@tenant_member_required("analytics.dashboards.build")
def dashboard_delete(request, pk):
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    services.dashboard_delete(tenant=request.tenant, actor=request.membership, dashboard=dashboard)
    messages.success(request, f"The dashboard “{dashboard.name}” was deleted. Its insights are kept.")
    return table_action_done(request) or redirect("analytics:dashboards")


def tile_added(request, dashboard, insight) -> bool:
    """Adds the insight to the dashboard with a message saying so (or why not)."""
    if insight is None or dashboard is None:
        messages.error(request, "Choose an insight and a dashboard.")
        return False
    try:
        services.tile_add(tenant=request.tenant, actor=request.membership, dashboard=dashboard, insight=insight)
    except ValidationError as exc:
        messages.error(request, " ".join(m for ms in exc.message_dict.values() for m in ms))
        return False
    messages.success(request, f"“{insight.name}” was added to the dashboard “{dashboard.name}”.")
    return True


def picked(queryset, raw: str):
    """The row of `queryset` whose id was posted, or None."""
    return queryset.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None


@require_POST
@tenant_member_required("analytics.dashboards.build")
def tile_add(request, pk):
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    tile_added(request, dashboard, picked(selectors.insight_list(), request.POST.get("insight", "")))
    return redirect("analytics:dashboard", pk=dashboard.pk)


@require_POST
@tenant_member_required("analytics.dashboards.build")
def tile_remove(request, pk, tile_pk):
    dashboard = get_object_or_404(selectors.dashboard_list(), pk=pk)
    tile = get_object_or_404(dashboard.tiles.select_related("insight"), pk=tile_pk)
    services.tile_remove(tenant=request.tenant, actor=request.membership, tile=tile)
    messages.success(request, f"“{tile.label}” was removed from the dashboard. The insight is kept.")
    return redirect("analytics:dashboard", pk=dashboard.pk)


# --- The read-only link (no log-in) --------------------------------------------------------------


def _shared(request, token):
    if getattr(request, "tenant", None) is None or request.tenant.is_public:
        raise Http404
    dashboard = selectors.dashboard_for_share_token(token)
    if dashboard is None:
        raise Http404
    return dashboard


@never_cache
def dashboard_shared(request, token):
    """The shared page: the dashboard's tiles with its own dates and filters, nothing else."""
    dashboard = _shared(request, token)
    overrides = selectors.dashboard_overrides(dashboard=dashboard)
    tiles = _tiles(
        request, dashboard, overrides, tile_url=lambda t: reverse("analytics:dashboard_shared_tile", args=[token, t.pk])
    )
    response = render(
        request, "analytics/shared.html", {"dashboard": dashboard, "tiles": tiles, "overrides": overrides}
    )
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "no-referrer"  # the link is the credential: never sent onwards
    return response


@never_cache
def dashboard_shared_tile(request, token, tile_pk):
    dashboard = _shared(request, token)
    tile = get_object_or_404(dashboard.tiles.select_related("insight"), pk=tile_pk)
    overrides = selectors.dashboard_overrides(dashboard=dashboard)
    return render(
        request, "analytics/_tile_body.html", {"item": {"tile": tile, "view": _tile_view(request, tile, overrides)}}
    )
