"""The data tables of the notification and webhook pages: endpoints, their delivery log, and a
member's notifications."""

import django_filters
import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.core.registry import registry
from apps.core.tables import ActionsColumn, DataTable, TemplateCell, TimeColumn, badge

from .models import Notification, WebhookDelivery


def delivery_state(delivery: WebhookDelivery) -> tuple[str, str]:
    """A delivery's state in words and its badge tone: a pending delivery that has already failed
    an attempt is retrying (warning), not merely pending."""
    if delivery.status == WebhookDelivery.Status.SUCCEEDED:
        return "Delivered", "success"
    if delivery.status == WebhookDelivery.Status.FAILED:
        return "Failed", "danger"
    if delivery.attempt_count:
        return "Retrying", "warning"
    return "Pending", "neutral"


class EndpointsTable(DataTable):
    url = tables.Column(verbose_name="URL")
    event_types = tables.Column(verbose_name="Events", orderable=False)
    is_active = tables.Column(verbose_name="Status")
    created = TimeColumn(verbose_name="Added")
    actions = ActionsColumn("notifications/_endpoint_actions.html")

    search_fields = ("url", "description")
    export_name = "webhooks"

    class Meta(DataTable.Meta):
        row_attrs = {"data-endpoint": lambda record: record.pk}
        empty_text = "No endpoints yet."

    def render_url(self, value, record):
        link = format_html('<a href="{}">{}</a>', reverse("notifications:webhook", args=[record.pk]), value)
        if record.description:
            return format_html('{}<br><small class="muted">{}</small>', link, record.description)
        return link

    def render_event_types(self, value):
        return ", ".join(registry.event_label(name) for name in value) if value else "every event"

    def value_event_types(self, value):
        return " ".join(value)

    def render_is_active(self, value, record):
        if not value:
            return badge("Disabled", "neutral")
        if record.failing_since:
            return badge("Failing", "warning")
        return badge("Active", "success")

    def value_is_active(self, value, record):
        return "disabled" if not value else "failing" if record.failing_since else "active"


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[("pending", "Pending"), ("retrying", "Retrying"), ("succeeded", "Delivered"), ("failed", "Failed")],
        empty_label="Any status",
        label="Status",
        method="filter_status",
    )

    class Meta:
        model = WebhookDelivery
        fields = ["status"]

    def filter_status(self, queryset, name, value):
        if value == "pending":
            return queryset.filter(status="pending", attempt_count=0)
        if value == "retrying":
            return queryset.filter(status="pending", attempt_count__gt=0)
        return queryset.filter(status=value)


class DeliveriesTable(DataTable):
    event_type = tables.Column(verbose_name="Event")
    message_id = tables.Column(verbose_name="webhook-id")
    status = TemplateCell("notifications/_delivery_status.html", verbose_name="Status")
    attempt_count = tables.Column(verbose_name="Attempts", attrs={"td": {"class": "num"}})
    created = TimeColumn(verbose_name="Created")

    search_fields = ("event_type", "message_id")
    filterset_class = DeliveryFilter
    export_name = "deliveries"

    class Meta(DataTable.Meta):
        row_attrs = {"data-delivery": lambda record: record.pk}
        empty_text = "Nothing delivered yet. Send a test event to try the endpoint."

    def row_context(self, record) -> dict:
        label, tone = delivery_state(record)
        return {"label": label, "tone": tone}

    def render_event_type(self, value, record):
        url = reverse("notifications:delivery", args=[record.endpoint_id, record.pk])
        marks = [badge(mark, "info") for mark, on in (("test", record.is_test), ("re-sent", record.is_replay)) if on]
        return format_html(
            '<a href="{}">{}</a> <small class="muted"><code>{}</code></small> {}',
            url,
            registry.event_label(value),
            value,
            format_html_join(" ", "{}", ((m,) for m in marks)),
        )

    def render_message_id(self, value):
        return format_html("<code>{}</code>", value)

    def value_status(self, record):
        return delivery_state(record)[0]


class NotificationsTable(DataTable):
    title = TemplateCell("notifications/_notification_title.html", verbose_name="Notification")
    created = TimeColumn(verbose_name="When")
    actions = ActionsColumn("notifications/_notification_actions.html")

    search_fields = ("title", "body")
    export_name = "notifications"

    class Meta(DataTable.Meta):
        model = Notification
        fields = ()
        row_attrs = {
            "data-notification-id": lambda record: record.pk,
            "class": lambda record: "" if record.read_at else "unread",
        }
        empty_text = "No notifications yet."

    def value_title(self, record):
        return record.title
