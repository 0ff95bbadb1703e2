"""The notification and webhook lists as data tables: delivery badges by state, the live delivery
log, filters, CSV exports, mark-as-read with htmx, the replay time in the user's zone, and tenant
isolation of every list and export."""

import csv
import io
import re
import zoneinfo
from datetime import datetime

import pytest
from django.utils import timezone

from apps.notifications import webhooks
from apps.notifications.forms import ReplayForm
from apps.notifications.models import Notification, WebhookDelivery
from tests.conftest import client_for

HTMX = {"HTTP_HX_REQUEST": "true"}


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _delivery(endpoint, n, **fields):
    return WebhookDelivery.objects.create(
        endpoint=endpoint, message_id=f"msg_{n}", event_type="member.joined", body="{}", **fields
    )


@pytest.fixture
def endpoint(in_tenant_a):
    return webhooks.endpoint_create(url="https://hooks.example.com/a", event_types=[], description="CRM")


@pytest.fixture
def admin(in_tenant_a, owner_a):
    return client_for(in_tenant_a, owner_a)


def test_delivery_badges_say_the_state_in_its_colour(endpoint, admin):
    _delivery(endpoint, 1, status="succeeded", attempt_count=1)
    _delivery(endpoint, 2, status="failed", attempt_count=8)
    _delivery(endpoint, 3, status="pending", attempt_count=2, next_attempt_at=timezone.now())
    _delivery(endpoint, 4, status="pending")
    body = admin.get(f"/webhooks/{endpoint.pk}/").content.decode()
    badges = dict(re.findall(r'<code>(msg_\d)</code>.*?<span class="badge badge-(\w+)">', body, re.S))
    assert badges == {"msg_1": "success", "msg_2": "danger", "msg_3": "warning", "msg_4": "neutral"}
    for words in ("Delivered", "Failed", "Retrying", "Pending"):
        assert f">{words}</span>" in body
    rows = _csv(admin.get(f"/webhooks/{endpoint.pk}/", {"_export": "csv", "sort": "message_id"}))
    assert [r[1:3] for r in rows[1:]] == [
        ["msg_1", "Delivered"],
        ["msg_2", "Failed"],
        ["msg_3", "Retrying"],
        ["msg_4", "Pending"],
    ]
    retrying = admin.get(f"/webhooks/{endpoint.pk}/", {"status": "retrying"}).content.decode()
    assert "msg_3" in retrying and "msg_4" not in retrying and "msg_1" not in retrying


def test_the_delivery_log_refreshes_itself_only_while_a_delivery_is_pending(endpoint, admin):
    pending = _delivery(endpoint, 1, status="pending")
    block = admin.get(f"/webhooks/{endpoint.pk}/", HTTP_HX_TARGET="deliveries-table", **HTMX).content.decode()
    assert block.strip().startswith('<div id="deliveries-table"') and "every 3s" in block
    assert "<html" not in block
    pending.status = "succeeded"
    pending.save()
    block = admin.get(f"/webhooks/{endpoint.pk}/", HTTP_HX_TARGET="deliveries-table", **HTMX).content.decode()
    assert "every 3s" not in block and ">Delivered</span>" in block


def test_the_delivery_log_shows_only_its_endpoint(in_tenant_a, endpoint, admin):
    other = webhooks.endpoint_create(url="https://hooks.example.com/other", event_types=[])
    _delivery(other, 9)
    _delivery(endpoint, 1)
    assert "msg_9" not in admin.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert [r[1] for r in _csv(admin.get(f"/webhooks/{endpoint.pk}/", {"_export": "csv"}))[1:]] == ["msg_1"]


def test_endpoints_table_with_delete_confirmation_and_empty_state(in_tenant_a, owner_a):
    client = client_for(in_tenant_a, owner_a)
    empty = client.get("/webhooks/").content.decode()
    assert "No endpoints yet." in empty and 'href="#add-endpoint"' in empty
    endpoint = webhooks.endpoint_create(url="https://hooks.example.com/a", event_types=["member.joined"])
    body = client.get("/webhooks/").content.decode()
    assert (
        f'action="/webhooks/{endpoint.pk}/delete/" data-confirm="Delete the endpoint https://hooks.example.com/a'
        in body
    )
    assert '<span class="badge badge-success">Active</span>' in body
    rows = _csv(client.get("/webhooks/", {"_export": "csv"}))
    assert rows[0] == ["URL", "Events", "Status", "Added"]
    assert rows[1][:3] == ["https://hooks.example.com/a", "member.joined", "active"]


def test_webhooks_of_another_tenant_never_show(in_tenant_a, endpoint, tenant_b, owner_b):
    _delivery(endpoint, 1)
    client = client_for(tenant_b, owner_b)
    assert "hooks.example.com" not in client.get("/webhooks/").content.decode()
    assert _csv(client.get("/webhooks/", {"_export": "csv"}))[1:] == []
    assert client.get(f"/webhooks/{endpoint.pk}/", {"_export": "csv"}).status_code == 404
    assert client_for(in_tenant_a, owner_b).get("/webhooks/", {"_export": "csv"}).status_code == 403


def test_mark_read_with_htmx_refreshes_the_list(in_tenant_a, owner_a):
    Notification.objects.filter(user=owner_a).delete()
    note = Notification.objects.create(user=owner_a, event_type="member.joined", title="Bob joined", in_app=True)
    client = client_for(in_tenant_a, owner_a)
    body = client.get("/notifications/").content.decode()
    assert f'hx-post="/notifications/{note.pk}/read/"' in body and 'class="unread' in body
    response = client.post(f"/notifications/{note.pk}/read/", **HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "table-refresh"
    note.refresh_from_db()
    assert note.read_at is not None
    block = client.get("/notifications/", HTTP_HX_TARGET="notifications-table", **HTMX).content.decode()
    assert "Bob joined" in block and "Mark as read" not in block
    all_read = client.post("/notifications/read-all/", **HTMX)
    assert all_read["HX-Trigger"] == "table-refresh" and "0 notifications marked as read." in all_read.content.decode()


def test_notifications_are_only_mine(in_tenant_a, owner_a, tenant_b, owner_b):
    from tests.factories import MembershipFactory

    other = MembershipFactory(tenant=in_tenant_a, role="member")
    Notification.objects.create(user=other.user, event_type="member.joined", title="Not for the owner", in_app=True)
    Notification.objects.create(user=owner_a, event_type="member.joined", title="For the owner", in_app=True)
    client = client_for(in_tenant_a, owner_a)
    assert "Not for the owner" not in client.get("/notifications/").content.decode()
    titles = [r[0] for r in _csv(client.get("/notifications/", {"_export": "csv"}))[1:]]
    assert "For the owner" in titles and "Not for the owner" not in titles
    assert "For the owner" not in client_for(tenant_b, owner_b).get("/notifications/").content.decode()
    empty = client.get("/notifications/", {"q": "nothing like this"}).content.decode()
    assert "No rows match your filter." in empty


def test_replay_time_is_read_in_the_active_time_zone(in_tenant_a):
    with timezone.override("America/New_York"):
        form = ReplayForm(data={"event_type": "member.joined", "since": "2026-01-05T09:30"})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["since"] == datetime(2026, 1, 5, 14, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))
        assert form.fields["since"].label == "Since (America/New_York)"
        assert "UTC-05:00" in form.fields["since"].help_text or "UTC-04:00" in form.fields["since"].help_text
        rendered = str(ReplayForm(initial={"since": datetime(2026, 1, 5, 14, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))}))
        assert 'type="datetime-local"' in rendered and 'value="2026-01-05T09:30"' in rendered


def test_replay_field_on_the_page_names_the_zone_and_not_utc_twice(endpoint, admin):
    body = admin.get(f"/webhooks/{endpoint.pk}/").content.decode()
    assert "Since (UTC)" in body  # the test settings' zone, named once
    assert re.search(r'name="since" value="\d{4}-\d\d-\d\dT\d\d:\d\d"', body)
