"""The compliance pages' data tables."""

import django_tables2 as tables
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html

from apps.core.tables import ActionsColumn, DataTable, TimeColumn, badge

from .retention import label_of


class InventoryTable(DataTable):
    area = tables.Column(verbose_name="Where")
    record = tables.Column(verbose_name="Record")
    categories = tables.Column(verbose_name="Personal data", orderable=False)
    fields = tables.Column(verbose_name="Fields", orderable=False)
    purpose = tables.Column(verbose_name="Why", orderable=False)
    erasure = tables.Column(verbose_name="On erasure")
    note = tables.Column(verbose_name="Note", orderable=False, default="")

    export_name = "data-inventory"
    rows_per_page = 100

    class Meta(DataTable.Meta):
        row_attrs = {"data-model": lambda record: record["model"]}
        empty_text = "No app declares personal data."


_THEN = {"delete": "Deleted", "anonymise": "Anonymised", "archive": "Archived, then deleted"}


class PoliciesTable(DataTable):
    record_type = tables.Column(verbose_name="Records")
    age_days = tables.Column(verbose_name="Kept for")
    action = tables.Column(verbose_name="Then")
    enabled = tables.Column(verbose_name="State")
    updated = TimeColumn(verbose_name="Changed")
    actions = ActionsColumn("compliance/_policy_actions.html")

    export_name = "retention-policies"

    class Meta(DataTable.Meta):
        row_attrs = {"data-policy": lambda record: record.record_type}
        empty_text = "No retention policy: every record is kept until someone deletes it."

    def render_record_type(self, value):
        return label_of(value)

    def render_age_days(self, value):
        return f"{value:,} day{'s' if value != 1 else ''}"

    def render_action(self, value):
        return _THEN.get(value, value)

    def render_enabled(self, value):
        return badge("Applied every hour", "success") if value else badge("Paused", "neutral")

    def value_enabled(self, value):
        return "applied" if value else "paused"


class HoldsTable(DataTable):
    record_type = tables.Column(verbose_name="Records")
    object_id = tables.Column(verbose_name="Record id")
    reason = tables.Column(verbose_name="Why", orderable=False)
    placed_by = tables.Column(verbose_name="Placed by", accessor="placed_by__email", default="—")
    placed_at = TimeColumn(verbose_name="Placed")
    released_at = TimeColumn(verbose_name="Released", default="Standing")
    actions = ActionsColumn("compliance/_hold_actions.html")

    search_fields = ("object_id", "reason")
    export_name = "legal-holds"

    class Meta(DataTable.Meta):
        row_attrs = {"data-hold": lambda record: f"{record.record_type}:{record.object_id}"}
        empty_text = "No legal hold."

    def render_record_type(self, value):
        return label_of(value)


class RunsTable(DataTable):
    started_at = TimeColumn(verbose_name="When")
    record_type = tables.Column(verbose_name="Records")
    what = tables.Column(verbose_name="What", accessor="dry_run", orderable=False)
    matched = tables.Column(verbose_name="Older than the age")
    held = tables.Column(verbose_name="Kept (legal hold)")
    acted = tables.Column(verbose_name="Acted on")
    outcome = tables.Column(verbose_name="Outcome", accessor="error", orderable=False, default="")

    export_name = "retention-log"

    class Meta(DataTable.Meta):
        row_attrs = {"data-run": lambda record: record.pk}
        empty_text = "No retention has run yet."

    def render_record_type(self, value):
        return label_of(value)

    def render_what(self, value, record):
        if value:
            return f"Preview ({record.action} after {record.age_days} days)"
        return f"{_THEN.get(record.action)} after {record.age_days} days"

    def value_what(self, value, record):
        return self.render_what(value, record)

    def render_outcome(self, value, record):
        if value:
            return format_html("{} {}", badge("Failed", "danger"), value)
        if record.archive:
            return f"Archived to {record.archive}"
        return "—"


STATUS_TONES = {
    "unverified": "warning",
    "open": "info",
    "running": "info",
    "done": "success",
    "refused": "neutral",
    "failed": "danger",
}


class DataRequestsTable(DataTable):
    pk = tables.Column(verbose_name="Request", linkify=("compliance:request", {"pk": tables.A("pk")}))
    subject_name = tables.Column(verbose_name="Person")
    status = tables.Column(verbose_name="State")
    opened_at = TimeColumn(verbose_name="Opened")
    due_at = tables.DateColumn(verbose_name="Due", format="j M Y")

    search_fields = ("subject_name",)
    export_name = "data-requests"

    class Meta(DataTable.Meta):
        row_attrs = {"data-request": lambda record: record.pk}
        empty_text = "No data request yet."

    def render_pk(self, value, record):
        return f"{record.kind_name} #{value}"

    def value_pk(self, value, record):
        return self.render_pk(value, record)

    def render_status(self, value, record):
        return badge(record.get_status_display(), STATUS_TONES.get(value, "neutral"))

    def value_status(self, value, record):
        return record.get_status_display()

    def render_due_at(self, value, record):
        text = f"{value:%-d %b %Y}"
        if not record.finished and value < timezone.now():
            return format_html("{} {}", text, badge("Overdue", "danger"))
        return text


class MyRequestsTable(DataRequestsTable):
    class Meta(DataRequestsTable.Meta):
        exclude = ("subject_name",)
        empty_text = "You have made no request about your data."


class PurposesTable(DataTable):
    name = tables.Column(verbose_name="Purpose")
    key = tables.Column(verbose_name="Key")
    version = tables.Column(verbose_name="Version")
    state = tables.Column(verbose_name="State", accessor="active", orderable=False)
    granted = tables.Column(verbose_name="Granted now", orderable=False)
    updated = TimeColumn(verbose_name="Changed")

    export_name = "consent-purposes"

    class Meta(DataTable.Meta):
        row_attrs = {"data-purpose": lambda record: record.key}
        empty_text = "No purpose yet: add the first one below."

    def render_key(self, value):
        return format_html("<code>{}</code>", value)

    def value_key(self, value):
        return value

    def render_state(self, value, record):
        if record.required:
            return badge("Always on", "info")
        return badge("Offered", "success") if value else badge("Not offered", "neutral")

    def value_state(self, value, record):
        return "always on" if record.required else ("offered" if value else "not offered")

    def render_granted(self, value):
        return f"{value:,} {'person' if value == 1 else 'people'}"


class ConsentHistoryTable(DataTable):
    recorded_at = TimeColumn(verbose_name="When")
    purpose = tables.Column(verbose_name="Purpose", accessor="purpose__name")
    granted = tables.Column(verbose_name="Choice")
    method = tables.Column(verbose_name="How")
    purpose_version = tables.Column(verbose_name="Words shown")
    source = tables.Column(verbose_name="Page", default="—")

    export_name = "consent-history"

    class Meta(DataTable.Meta):
        empty_text = "No consent recorded for this person."

    def render_granted(self, value):
        return badge("Granted", "success") if value else badge("Withdrawn", "neutral")

    def value_granted(self, value):
        return "granted" if value else "withdrawn"

    def render_method(self, value, record):
        return record.get_method_display()

    def render_purpose_version(self, value, record):
        return format_html('<span title="{}">Version {}</span>', record.text_shown, value)

    def value_purpose_version(self, value):
        return value


class ReviewItemsTable(DataTable):
    name = tables.Column(verbose_name="Member")
    role = tables.Column(verbose_name="Role")
    has_second_factor = tables.Column(verbose_name="Second factor")
    last_login = TimeColumn(verbose_name="Last log-in", default="Never")
    decision = tables.Column(verbose_name="Decision")
    actions = ActionsColumn("compliance/_review_actions.html")

    search_fields = ("name",)
    export_name = "access-review"
    rows_per_page = 100

    class Meta(DataTable.Meta):
        row_attrs = {"data-member": lambda record: record.user_id or ""}
        empty_text = "No member to review."

    def render_role(self, value):
        return value.capitalize()

    def render_has_second_factor(self, value):
        return badge("Yes", "success") if value else badge("No", "warning")

    def value_has_second_factor(self, value):
        return "yes" if value else "no"

    def render_decision(self, value, record):
        tone = {"pending": "warning", "kept": "success", "removed": "danger"}.get(value, "neutral")
        return badge(record.get_decision_display(), tone)

    def value_decision(self, value, record):
        return record.get_decision_display()


class ReportsTable(DataTable):
    period_start = tables.DateColumn(verbose_name="Month", format="F Y")
    status = tables.Column(verbose_name="State")
    created = TimeColumn(verbose_name="Asked")
    file_size = tables.Column(verbose_name="Size")
    actions = ActionsColumn("compliance/_report_actions.html")

    export_name = "compliance-reports"

    class Meta(DataTable.Meta):
        row_attrs = {"data-report": lambda record: f"{record.period_start:%Y-%m}"}
        empty_text = "No report yet: last month's is made on the first day of each month."

    def render_status(self, value, record):
        tone = {"done": "success", "failed": "danger"}.get(value, "info")
        return badge(record.get_status_display(), tone)

    def value_status(self, value, record):
        return record.get_status_display()

    def render_file_size(self, value):
        return filesizeformat(value) if value else "—"
