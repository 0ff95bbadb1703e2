"""Scheduled reports: when they run (local hours, DST), e-mailed once with the file attached in
the branded layout, managed by the API and the pages (authors their own, admins everyone's)."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from apps.analytics import reports, services
from apps.analytics.models import ScheduledReport
from tests.conftest import client_for, owner_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
TRENDS = {"kind": "trends", "date_from": "2026-03-01", "date_to": "2026-03-07", "series": [{"event": "view"}]}


@pytest.mark.parametrize(
    ("frequency", "after", "expected"),
    [
        ("daily", datetime(2026, 3, 5, 12, 59, tzinfo=UTC), datetime(2026, 3, 5, 8, tzinfo=NY)),  # 07:59 in NY
        ("daily", datetime(2026, 3, 5, 13, 0, tzinfo=UTC), datetime(2026, 3, 6, 8, tzinfo=NY)),  # 08:00: the next day
        ("daily", datetime(2026, 3, 7, 14, 0, tzinfo=UTC), datetime(2026, 3, 8, 8, tzinfo=NY)),  # DST starts: 12:00 UTC
        ("weekly", datetime(2026, 3, 4, 0, 0, tzinfo=UTC), datetime(2026, 3, 9, 8, tzinfo=NY)),  # the next Monday
        ("monthly", datetime(2026, 3, 1, 14, 0, tzinfo=UTC), datetime(2026, 4, 1, 8, tzinfo=NY)),
        ("monthly", datetime(2026, 2, 28, 0, 0, tzinfo=UTC), datetime(2026, 3, 1, 8, tzinfo=NY)),
    ],
)
def test_next_run_is_at_the_local_hour(frequency, after, expected):
    assert reports.next_run(frequency=frequency, hour=8, tz=NY, after=after) == expected


def test_a_scheduled_report_covers_the_latest_period_up_to_yesterday():
    moved = reports.query_for_period(TRENDS, datetime(2026, 4, 10).date())
    assert (moved["date_from"], moved["date_to"]) == ("2026-04-03", "2026-04-09")


@pytest.fixture
def setup_a(tenant_a):
    author = MembershipFactory(tenant=tenant_a, role="member")
    reader = MembershipFactory(tenant=tenant_a, role="viewer")
    with schema_context(tenant_a.schema_name):
        insight = services.insight_create(tenant=tenant_a, actor=None, name="Weekly views", query=TRENDS)
    return author, reader, insight


def _create(client, insight, recipients, **extra):
    body = {"name": "Monday KPIs", "insight_ids": [insight.pk], "format": "xlsx", "frequency": "weekly",
            "hour": 7, "recipient_ids": recipients, **extra}  # fmt: skip
    return client.post("/api/v1/analytics/scheduled-reports/", json.dumps(body), content_type="application/json")


def test_due_reports_are_emailed_once_each_with_the_file(tenant_a, setup_a):
    author, reader, insight = setup_a
    created = _create(client_for(tenant_a, author.user), insight, [author.user_id, reader.user_id])
    assert created.status_code == 201, created.content
    schedule_id = created.json()["id"]
    now = datetime(2030, 1, 7, 12, tzinfo=UTC)  # a Monday
    with schema_context(tenant_a.schema_name):
        ScheduledReport.objects.filter(pk=schedule_id).update(next_run_at=now)
        assert reports.scheduled_reports_run_due(tenant=tenant_a, now=now) == 1
        assert reports.scheduled_reports_run_due(tenant=tenant_a, now=now) == 0  # not twice
        schedule = ScheduledReport.objects.get(pk=schedule_id)
    assert schedule.last_run_at == now and schedule.next_run_at == datetime(2030, 1, 14, 7, tzinfo=UTC)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([author.user.email, reader.user.email])
    message = mail.outbox[0]
    assert message.subject == "[Alpha Ltd] Monday KPIs"
    name, content, mimetype = message.attachments[0]
    assert name == "Monday KPIs 2030-01-07.xlsx" and content[:2] == b"PK"
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "“Weekly views”" in message.body and "/analytics/reports/scheduled/" in message.body
    html = message.alternatives[0][0]
    assert "Alpha Ltd" in html  # the organisation's branded layout


def test_recipients_must_be_members(tenant_a, tenant_b, setup_a):
    author, _, insight = setup_a
    stranger = owner_of(tenant_b)
    answer = _create(client_for(tenant_a, author.user), insight, [stranger.pk])
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "recipient_ids"
    bad_hour = _create(client_for(tenant_a, author.user), insight, [author.user_id], hour=24)
    assert bad_hour.status_code == 400 and bad_hour.json()["errors"][0]["field"] == "hour"


def test_authors_manage_their_own_admins_everyones_other_tenants_none(tenant_a, tenant_b, setup_a):
    author, _, insight = setup_a
    schedule_id = _create(client_for(tenant_a, author.user), insight, [author.user_id]).json()["id"]
    path = f"/api/v1/analytics/scheduled-reports/{schedule_id}/"
    other = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="member").user)
    assert other.patch(path, json.dumps({"hour": 9}), content_type="application/json").status_code == 404
    admin = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="admin").user)
    changed = admin.patch(path, json.dumps({"hour": 9, "frequency": "daily"}), content_type="application/json")
    assert changed.status_code == 200 and changed.json()["hour"] == 9
    assert client_for(tenant_b, owner_of(tenant_b)).get(path).status_code == 404
    viewer = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="viewer").user)
    assert viewer.get("/api/v1/analytics/scheduled-reports/").status_code == 403
    assert client_for(tenant_a, author.user).delete(path).status_code == 204


def test_pages_list_edit_and_delete(tenant_a, tenant_b, setup_a):
    author, _, insight = setup_a
    client = client_for(tenant_a, author.user)
    made = client.post(
        "/analytics/reports/scheduled/",
        {"name": "Daily digest", "insight_ids": [insight.pk], "format": "pdf", "frequency": "daily", "hour": 6,
         "recipient_ids": [author.user_id]},
    )  # fmt: skip
    assert made.status_code == 302, made.content.decode()[:2000]
    page = client.get("/analytics/reports/scheduled/").content.decode()
    assert "Daily digest" in page and "Every day, 06:00" in page and "data-confirm=" in page
    with schema_context(tenant_a.schema_name):
        schedule = ScheduledReport.objects.get(name="Daily digest")
    edit = f"/analytics/reports/scheduled/{schedule.pk}/"
    assert client.get(edit).status_code == 200
    assert client_for(tenant_b, owner_of(tenant_b)).get(edit).status_code == 404
    refused = client.post(edit, {"name": "", "insight_ids": [insight.pk], "format": "pdf", "frequency": "daily",
                                 "hour": 6, "recipient_ids": [author.user_id]})  # fmt: skip
    assert refused.status_code == 400
    saved = client.post(edit, {"name": "Digest", "insight_ids": [insight.pk], "format": "csv", "frequency": "monthly",
                               "hour": 6, "recipient_ids": [author.user_id]})  # fmt: skip
    assert saved.status_code == 302
    with schema_context(tenant_a.schema_name):
        schedule.refresh_from_db()
        assert (schedule.name, schedule.format, schedule.is_active) == ("Digest", "csv", False)  # unticked: paused
    assert client.post(f"/analytics/reports/scheduled/{schedule.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not ScheduledReport.objects.filter(pk=schedule.pk).exists()


def test_changes_are_in_the_audit_log_with_their_author(tenant_a, setup_a):
    from auditlog.models import LogEntry

    author, _, insight = setup_a
    schedule_id = _create(client_for(tenant_a, author.user), insight, [author.user_id]).json()["id"]
    with schema_context(tenant_a.schema_name):
        entry = LogEntry.objects.get_for_object(ScheduledReport.objects.get(pk=schedule_id)).get()
    assert entry.action == LogEntry.Action.CREATE and entry.actor_id == author.user_id
