"""The project keys page (admins, `analytics.keys.manage`): create a key (its secret and the
snippet to paste are shown once, on the page that answers the form), revoke one, and switch the
dashboards' own page views on or off (their built-in key is listed, never revocable)."""

import django_tables2 as tables
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html, format_html_join
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.forms import apply_errors
from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge, data_table, table_action_done
from apps.identity.decorators import tenant_member_required

from .. import selectors, services

PERMISSION = "analytics.keys.manage"


class ProjectKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="The site or app that will send events, e.g. “Website”.")
    allowed_origins = forms.CharField(
        required=False,
        label="Allowed origins",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.com"}),
        help_text="One per line: the sites whose pages may send events with it (* for any). "
        "Leave empty for a key used only from servers.",
    )

    def clean_allowed_origins(self):
        return [line.strip() for line in self.cleaned_data["allowed_origins"].splitlines() if line.strip()]


class PageViewsForm(forms.Form):
    enabled = forms.BooleanField(
        required=False,
        label="Record the dashboards' own page views",
        help_text="Each page a member opens here is recorded as a $pageview event (its path and title, never "
        "its query string), unless their browser asks not to be tracked.",
    )


class ProjectKeysTable(DataTable):
    name = tables.Column(verbose_name="Name")
    prefix = tables.Column(verbose_name="Prefix")
    allowed_origins = tables.Column(verbose_name="Allowed origins", orderable=False)
    status = tables.Column(accessor="revoked_at", verbose_name="Status", orderable=False, empty_values=())
    created = TimeColumn(verbose_name="Created")
    actions = ActionsColumn("analytics/_key_actions.html")

    search_fields = ("name", "prefix")
    export_name = "project-keys"

    class Meta(DataTable.Meta):
        row_attrs = {"data-key": lambda record: record.prefix}
        empty_text = "No project keys yet."

    def render_name(self, record, value):
        if record.builtin:
            return format_html("{} {}", value, badge("Built-in", "info"))
        return value

    def render_prefix(self, value):
        return format_html("<code>{}…</code>", value)

    def render_allowed_origins(self, value):
        if not value:
            return format_html('<span class="muted">{}</span>', "servers only")
        return format_html_join(" ", "<code>{}</code>", ((o,) for o in value))

    def value_allowed_origins(self, value):
        return " ".join(value)

    def render_status(self, record):
        return badge("Revoked", "neutral") if record.revoked_at else badge("Active", "success")

    def value_status(self, record):
        return record.status


def _page(request, *, form=None, created=None, raw=None, status=200):
    table = data_table_keys(request)
    if table.response and not created:
        return table.response
    settings_row = selectors.page_view_settings()
    context = {
        "form": form or ProjectKeyForm(),
        "page_views_form": PageViewsForm(initial={"enabled": settings_row.enabled}),
        "page_views_enabled": settings_row.enabled,
        "table": table,
        "created": created,
        "raw_key": raw,
        "host_url": f"{request.scheme}://{request.get_host()}",
    }
    return render(request, "analytics/keys.html", context, status=status)


def data_table_keys(request):
    return data_table(
        request, ProjectKeysTable, selectors.project_key_list(), empty_action=("Create a key", "#create-key")
    )


@never_cache
@tenant_member_required(PERMISSION)
def project_keys(request):
    if request.method != "POST":
        return _page(request)
    form = ProjectKeyForm(request.POST)
    if form.is_valid():
        try:
            key, raw = services.project_key_create(
                tenant=request.tenant,
                actor=request.membership,
                name=form.cleaned_data["name"],
                allowed_origins=form.cleaned_data["allowed_origins"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            # Rendered, not redirected: the secret never goes into a session or a URL.
            response = _page(request, created=key, raw=raw)
            response["Cache-Control"] = "no-store"
            return response
    return _page(request, form=form, status=400)


@require_POST
@tenant_member_required(PERMISSION)
def project_key_revoke(request, pk):
    key = get_object_or_404(selectors.project_key_list(), pk=pk)
    try:
        services.project_key_revoke(tenant=request.tenant, actor=request.membership, key=key)
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
    else:
        messages.success(request, f"The key “{key.name}” ({key.prefix}…) was revoked: events sent with it are refused.")
    return table_action_done(request) or redirect("analytics:keys")


@require_POST
@tenant_member_required(PERMISSION)
def page_views(request):
    form = PageViewsForm(request.POST)
    form.is_valid()  # a checkbox: absent means off
    enabled = bool(form.cleaned_data.get("enabled"))
    services.page_views_switch(tenant=request.tenant, actor=request.membership, enabled=enabled)
    messages.success(
        request,
        "The dashboards' page views are recorded." if enabled else "The dashboards' page views are no longer recorded.",
    )
    return redirect("analytics:keys")
