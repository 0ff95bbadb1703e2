"""The API keys page's data table."""

import django_filters
import django_tables2 as tables
from django.db.models import Q
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.core.api import scopes
from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .models import ApiKey
from .selectors import STATUS_WORDS

NUMBER = {"td": {"class": "num"}}
STATUS_TONES = {"active": "success", "expired": "warning", "revoked": "neutral"}


class ApiKeyFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")],
        empty_label="Any status",
        label="Status",
        method="filter_status",
    )

    class Meta:
        model = ApiKey
        fields = ["status"]

    def filter_status(self, queryset, name, value):
        now = timezone.now()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        expired = Q(expires_at__lte=now)
        live = queryset.filter(revoked_at__isnull=True)
        return live.filter(expired) if value == "expired" else live.exclude(expired)


class ApiKeysTable(DataTable):
    name = tables.Column(verbose_name="Name")
    prefix = tables.Column(verbose_name="Prefix")
    scopes = tables.Column(verbose_name="Scopes", orderable=False)
    status = tables.Column(accessor="revoked_at", verbose_name="Status", orderable=False, empty_values=())
    created = TimeColumn(verbose_name="Created")
    expires_at = tables.DateColumn(verbose_name="Expires", format="j M Y", default="never")
    last_used = tables.Column(accessor="pk", verbose_name="Last used", orderable=False)
    calls_today = tables.Column(
        accessor="pk", verbose_name="Calls today", orderable=False, attrs={"td": {"class": "num"}}
    )
    calls_total = tables.Column(accessor="pk", orderable=False, attrs={"td": {"class": "num"}})
    actions = ActionsColumn("api/_key_actions.html")

    search_fields = ("name", "prefix", "created_by_email")
    filterset_class = ApiKeyFilter
    export_name = "api-keys"

    class Meta(DataTable.Meta):
        row_attrs = {"data-key": lambda record: record.prefix}
        empty_text = "No keys yet."

    def __init__(self, *args, last_used: dict, usage: dict, usage_days: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.last_used = last_used
        self.usage = usage  # key id -> (calls today, calls in usage_days)
        self.columns["calls_total"].column.verbose_name = f"Calls ({usage_days} days)"

    def render_prefix(self, value):
        return format_html("<code>{}…</code>", value)

    def render_scopes(self, value):
        words = ((code, scopes.describe(code)) for code in value)  # the code for developers, on hover
        return format_html_join(" ", '<span class="badge" title="{}">{}</span>', words)

    def value_scopes(self, value):
        return " ".join(value)

    def render_status(self, record):
        return badge(STATUS_WORDS[record.status], STATUS_TONES[record.status])

    def value_status(self, record):
        return record.status

    def render_last_used(self, record):
        when = self.last_used.get(record.pk)
        return TimeColumn().render(when) if when else "never"

    def value_last_used(self, record):
        when = self.last_used.get(record.pk)
        return when.isoformat() if when else ""

    def render_calls_today(self, record):
        return self.usage.get(record.pk, (0, 0))[0]

    def render_calls_total(self, record):
        return self.usage.get(record.pk, (0, 0))[1]
