"""Access reviews (each quarter every member confirmed or removed, recorded) and the monthly
compliance report (a PDF with the evidence, made once a month by beat or on request); admins only,
tenants apart."""

import subprocess
from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tenants.utils import schema_context, tenant_context

from apps.compliance import report, reviews
from apps.compliance.models import AccessReview, AccessReviewItem, ComplianceReport
from apps.identity.models import Membership
from apps.security.models import Incident
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_a_quarter_s_review_records_each_decision_and_completes(tenant_a, owner_a):
    keep = MembershipFactory(tenant=tenant_a, role="admin").user
    remove = MembershipFactory(tenant=tenant_a, role="member").user
    admin = client_for(tenant_a, owner_a)
    assert b"Open this quarter" in admin.get("/compliance/access-review/").content
    admin.post("/compliance/access-review/")
    with schema_context(tenant_a.schema_name):
        review = AccessReview.objects.get()
        assert review.period == reviews.quarter_of(timezone.localdate())
        items = {i.user_id: i for i in review.items.all()}
        assert set(items) == {owner_a.pk, keep.pk, remove.pk} and items[keep.pk].role == "admin"
        assert reviews.reviews_open_due(tenant=tenant_a) is False  # once a quarter
    page = admin.get("/compliance/access-review/")
    assert b"3 of 3 members still to review" in page.content
    for user, decision in ((owner_a, "kept"), (keep, "kept"), (remove, "removed")):
        assert admin.post(f"/compliance/access-review/{items[user.pk].pk}/", {"decision": decision}).status_code == 302
    assert not Membership.objects.filter(tenant=tenant_a, user=remove).exists()
    with schema_context(tenant_a.schema_name):
        review.refresh_from_db()
        assert review.completed_at is not None
        assert {i.decision for i in review.items.all()} == {"kept", "removed"}
        assert AccessReviewItem.objects.get(user=keep).decided_by_id == owner_a.pk
    late = admin.post(f"/compliance/access-review/{items[keep.pk].pk}/", {"decision": "removed"}, follow=True)
    assert b"This review is complete" in late.content
    assert Membership.objects.filter(tenant=tenant_a, user=keep).exists()


def test_the_last_owner_is_not_removed_by_a_review_and_bad_decisions_are_refused(tenant_a, owner_a):
    admin = client_for(tenant_a, owner_a)
    admin.post("/compliance/access-review/")
    with schema_context(tenant_a.schema_name):
        mine = AccessReviewItem.objects.get(user=owner_a)
    refused = admin.post(f"/compliance/access-review/{mine.pk}/", {"decision": "removed"}, follow=True)
    assert b"You are the only owner" in refused.content
    odd = admin.post(f"/compliance/access-review/{mine.pk}/", {"decision": "maybe"}, follow=True)
    assert b"Confirm the access, or remove the member" in odd.content
    with schema_context(tenant_a.schema_name):
        assert AccessReviewItem.objects.get(pk=mine.pk).decision == "pending"
    member = MembershipFactory(tenant=tenant_a, role="member").user
    assert client_for(tenant_a, member).get("/compliance/access-review/").status_code == 403


def _pdf_text(data: bytes) -> str:
    """The PDF's text, by poppler's pdftotext (as content processing reads PDFs)."""
    return subprocess.run(
        ["pdftotext", "-q", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True
    ).stdout.decode()


def test_the_monthly_report_holds_the_evidence(tenant_a, owner_a, django_capture_on_commit_callbacks):
    MembershipFactory(tenant=tenant_a, role="viewer")
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    with tenant_context(tenant_a):
        Incident.objects.create(
            rule="privilege_escalation", severity="high", dedup_key="t1", summary="Someone was made owner",
            occurred_at=timezone.now(), raised_at=timezone.now(),
        )  # fmt: skip
        Incident.objects.filter(dedup_key="t1").update(raised_at=timezone.now().replace(day=1) - timedelta(days=2))
        made = report.reports_monthly(tenant=tenant_a)
        assert made is not None and report.reports_monthly(tenant=tenant_a) is None  # once a month
        built = report.report_build(report_id=made.pk, tenant=tenant_a)
    assert built.status == "done" and built.period_start == last_month.replace(day=1)
    with default_storage.open(built.file, "rb") as f:
        text = _pdf_text(f.read())
    for expected in (
        "Compliance report", tenant_a.name, "Members and roles", "Second factor", "Access review",
        "No access review yet", "API keys", "Retention", "Data subject requests", "Hash chain", "Unbroken",
        "Someone was made owner", "Security posture", "Not checked yet",
    ):  # fmt: skip
        assert expected in text, expected
    admin = client_for(tenant_a, owner_a)
    page = admin.get("/compliance/reports/")
    assert f'data-report="{built.period_start:%Y-%m}"'.encode() in page.content
    download = admin.get(f"/compliance/reports/{built.pk}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"%PDF")


def test_reports_are_asked_for_ended_months_only_and_stay_in_their_tenant(tenant_a, owner_a, tenant_b, owner_b):
    admin = client_for(tenant_a, owner_a)
    this_month = timezone.localdate().strftime("%Y-%m")
    refused = admin.post("/compliance/reports/", {"month": this_month})
    assert refused.status_code == 400 and b"Choose a month that has ended" in refused.content
    assert admin.post("/compliance/reports/", {"month": "2026-01"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        asked = ComplianceReport.objects.get(period_start=date(2026, 1, 1))
        report.report_build(report_id=asked.pk, tenant=tenant_a)
    other = client_for(tenant_b, owner_b)
    assert other.get(f"/compliance/reports/{asked.pk}/download/").status_code == 404
    assert b"data-report=" not in other.get("/compliance/reports/").content
    member = MembershipFactory(tenant=tenant_a, role="member").user
    assert client_for(tenant_a, member).get(f"/compliance/reports/{asked.pk}/download/").status_code == 403


def test_a_decision_is_made_once(tenant_a, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    admin = client_for(tenant_a, owner_a)
    admin.post("/compliance/access-review/")
    with schema_context(tenant_a.schema_name):
        item = AccessReviewItem.objects.get(user=member)
    admin.post(f"/compliance/access-review/{item.pk}/", {"decision": "removed"})
    again = admin.post(f"/compliance/access-review/{item.pk}/", {"decision": "removed"}, follow=True)
    assert b"already decided" in again.content
    with schema_context(tenant_a.schema_name):
        assert AccessReviewItem.objects.get(pk=item.pk).decision == "removed"
