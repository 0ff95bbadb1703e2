"""The living style guide: every piece of the UI kit with the snippet that makes it (/style-guide/).

Shown to platform staff, or to anyone while DEBUG is on; a 404 for everybody else."""

import datetime

import django_filters
import django_tables2 as tables
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import Permission
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from .tables import DataTable, data_table

ROLES = [("member", "Member"), ("admin", "Admin"), ("owner", "Owner")]


class SampleForm(forms.Form):
    name = forms.CharField(help_text="As your teammates will see it.")
    email = forms.EmailField()
    role = forms.ChoiceField(choices=ROLES)
    plan = forms.ChoiceField(choices=[("free", "Free"), ("team", "Team")], widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    notify = forms.BooleanField(required=False, label="Email me when someone joins")


class PermissionFilter(django_filters.FilterSet):
    action = django_filters.ChoiceFilter(
        label="Action",
        field_name="codename",
        lookup_expr="startswith",
        empty_label="Any action",
        choices=[("add_", "Add"), ("change_", "Change"), ("delete_", "Delete"), ("view_", "View")],
    )

    class Meta:
        model = Permission
        fields = ["action"]


class PermissionsTable(DataTable):
    """The style guide's data table: the site's permissions (real rows on every host, harmless to show)."""

    name = tables.Column(verbose_name="Permission")
    kind = tables.Column(accessor="content_type__name", verbose_name="Kind of record", orderable=False)

    search_fields = ("name",)
    filterset_class = PermissionFilter
    export_name = "permissions"
    rows_per_page = 5

    class Meta(DataTable.Meta):
        empty_text = "No permissions."


def may_see(user) -> bool:
    return settings.DEBUG or (user.is_authenticated and user.is_staff)


def style_guide(request):
    if not may_see(request.user):
        raise Http404
    form = SampleForm(prefix="sample")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "htmx":  # answered in place: the page again, of which htmx takes one part
            return render(
                request, "core/style_guide.html", {**sample_context(), "form": form, "htmx_answered_at": timezone.now()}
            )
        if action == "form":
            form = SampleForm(request.POST, prefix="sample")
            if form.is_valid():
                messages.success(request, "The sample form is valid.")
                return redirect(request.path)
        else:
            messages.success(request, f"Confirmed: the “{action}” form was sent.")
            return redirect(request.path)
    table = data_table(request, PermissionsTable, Permission.objects.select_related("content_type"), prefix="kit-")
    if table.response:  # the CSV export, or htmx asking for the table alone
        return table.response
    return render(request, "core/style_guide.html", {**sample_context(), "form": form, "table": table})


def sample_context() -> dict:
    now = timezone.now()
    return {
        "invalid_form": SampleForm(data={"invalid-email": "jane@", "invalid-plan": "team"}, prefix="invalid"),
        "times": [
            now - datetime.timedelta(seconds=10),
            now - datetime.timedelta(minutes=5),
            now - datetime.timedelta(days=3, hours=2),
            now + datetime.timedelta(hours=2, minutes=1),
            now - datetime.timedelta(days=400),
        ],
        "tones": ["success", "warning", "danger", "info", "neutral"],
        "time_zone": timezone.get_current_timezone_name(),
    }
