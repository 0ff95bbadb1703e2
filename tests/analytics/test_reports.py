"""Reports of insights as files (CSV, Excel, PDF with charts), made as a job with progress, a
signed download link that expires and names one file, the API and the pages; tenants apart."""

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import schema_context

from apps.analytics import report_files, reports, services
from apps.analytics.models import ReportJob
from apps.notifications.models import Notification
from tests.conftest import client_for, owner_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Report files go to a folder of the test's own (the default storage follows MEDIA_ROOT)."""
    settings.MEDIA_ROOT = str(tmp_path)


TRENDS = {"kind": "trends", "date_from": "2026-03-05", "date_to": "2026-03-06", "series": [{"event": "view"}]}
FUNNEL = {
    "kind": "funnel",
    "date_from": "2026-03-05",
    "date_to": "2026-03-06",
    "steps": [{"event": "view"}, {"event": "buy"}],
}


def _write(tenant, events):
    rows = [
        [ts.isoformat(), f"00000000-0000-4000-8000-{n:012d}", name, who, "{}", ts.isoformat(), None]
        for n, (ts, name, who) in enumerate(events, start=1)
    ]
    with schema_context(tenant.schema_name):
        services.rows_write(rows)


@pytest.fixture
def data_a(tenant_a):
    """Three views (two persons) and one purchase on 5 March, one view on 6 March; two insights."""
    day5, day6 = datetime(2026, 3, 5, 15, tzinfo=UTC), datetime(2026, 3, 6, 15, tzinfo=UTC)
    _write(tenant_a, [(day5, "view", "p1"), (day5, "view", "p1"), (day5, "view", "p2"), (day5, "buy", "p1"),
                      (day6, "view", "p2")])  # fmt: skip
    with schema_context(tenant_a.schema_name):
        trends = services.insight_create(tenant=tenant_a, actor=None, name="Daily views", query=TRENDS)
        funnel = services.insight_create(tenant=tenant_a, actor=None, name="=Buy funnel", query=FUNNEL)
    return trends, funnel


def _member(tenant, role="member"):
    return MembershipFactory(tenant=tenant, role=role)


def _run(tenant, job_id):
    """What the task does (the e2e test runs it in a real worker)."""
    with schema_context(tenant.schema_name):
        return reports.report_job_run(job_id=job_id, tenant=tenant)


def _make(tenant, membership, insights, fmt):
    with schema_context(tenant.schema_name):
        job = reports.report_job_create(
            tenant=tenant, actor=membership, insight_ids=[i.pk for i in insights], format=fmt
        )
    return _run(tenant, job.pk)


def _file(job) -> bytes:
    with default_storage.open(job.file, "rb") as f:
        return f.read()


def test_csv_report_holds_each_insight_as_a_table_in_order(tenant_a, data_a):
    member = _member(tenant_a)
    job = _make(tenant_a, member, list(data_a), "csv")
    assert job.status == "done" and job.progress == 100 and job.file.startswith("analytics/t_alpha/reports/")
    rows = list(csv.reader(io.StringIO(_file(job).decode("utf-8-sig"))))
    assert rows[:3] == [["Daily views"], ["Series", "2026-03-05", "2026-03-06"], ["view (total)", "3", "1"]]
    start = rows.index(["'=Buy funnel"])  # a name a spreadsheet would run as a formula is quoted
    assert rows[start + 2][:3] == ["1", "view", "2"] and rows[start + 3][:3] == ["2", "buy", "1"]


def test_excel_report_has_a_sheet_per_insight(tenant_a, data_a):
    job = _make(tenant_a, _member(tenant_a), list(data_a), "xlsx")
    book = openpyxl.load_workbook(io.BytesIO(_file(job)))
    assert book.sheetnames == ["Daily views", "=Buy funnel"]  # a title never runs as a formula
    sheet = book["Daily views"]
    assert [c.value for c in sheet[1]] == ["Series", "2026-03-05", "2026-03-06"]
    assert [c.value for c in sheet[2]] == ["view (total)", 3, 1]
    assert sheet["A1"].font.bold


def test_pdf_report_is_a_pdf_with_its_charts_drawn(tenant_a, data_a):
    job = _make(tenant_a, _member(tenant_a), list(data_a), "pdf")
    data = _file(job)
    assert data.startswith(b"%PDF-") and job.file.endswith(".pdf")
    without_charts = report_files.sections_pdf(
        title="x",
        subtitle="",
        sections=[{"name": "n", "headers": ["a"], "table_rows": [[1]], "rows": [[1]], "chart": ""}],
    )
    assert len(data) > len(without_charts) + 1500  # two charts and two tables drawn


def test_charts_are_svg_drawn_from_the_numbers():
    svg = report_files.result_chart("trends", {"labels": ["a", "b"], "series": [{"event": "view", "values": [4, 1]}]})
    assert svg.startswith("<svg") and "<polyline" in svg and ">view (total)<" in svg
    bars = report_files.result_chart("funnel", {"steps": [{"event": "view", "count": 2}, {"event": "buy", "count": 1}]})
    assert bars.count("<rect") == 3  # two bars and the legend's swatch
    assert report_files.result_chart("retention", {"cohorts": []}) == ""


def test_the_requester_is_notified_and_the_event_names_them(tenant_a, data_a, django_capture_on_commit_callbacks):
    member = _member(tenant_a)
    with django_capture_on_commit_callbacks(execute=False):
        job = _make(tenant_a, member, [data_a[0]], "csv")
    with schema_context(tenant_a.schema_name):
        note = Notification.objects.get(user_id=member.user_id, event_type="analytics.report_ready")
        from apps.events.models import Event

        event = Event.objects.filter(type="analytics.report_ready").latest("occurred_at")
    assert note.url == f"/analytics/reports/jobs/{job.pk}/" and "Daily views" in note.title
    assert event.payload == {"job_id": job.pk, "title": "Daily views", "format": "CSV"}


def test_a_job_runs_once(tenant_a, data_a):
    job = _make(tenant_a, _member(tenant_a), [data_a[0]], "csv")
    assert _run(tenant_a, job.pk) is None  # a task delivered twice does nothing the second time


def test_a_job_whose_insights_were_deleted_fails_in_words(tenant_a, data_a):
    member = _member(tenant_a)
    with schema_context(tenant_a.schema_name):
        job = reports.report_job_create(tenant=tenant_a, actor=member, insight_ids=[data_a[0].pk], format="csv")
        data_a[0].delete()
    job = _run(tenant_a, job.pk)
    assert job.status == "failed" and job.error == "Its insights were deleted."


# --- Download links -----------------------------------------------------------------------------


def test_signed_link_downloads_the_file_and_only_on_its_tenant(tenant_a, tenant_b, data_a):
    job = _make(tenant_a, _member(tenant_a), [data_a[0]], "csv")
    with schema_context(tenant_a.schema_name):
        url = reports.download_url(job)
    answer = client_for(tenant_a).get(url)  # the link is the credential: no session needed
    assert answer.status_code == 200
    assert answer["Content-Disposition"] == 'attachment; filename="Daily views.csv"'
    assert b"".join(answer.streaming_content) == _file(job)
    assert client_for(tenant_b).get(url).status_code == 404


def test_a_link_cannot_be_used_for_another_file(tenant_a, data_a):
    member = _member(tenant_a)
    first = _make(tenant_a, member, [data_a[0]], "csv")
    second = _make(tenant_a, member, [data_a[1]], "csv")
    with schema_context(tenant_a.schema_name):
        token = reports.download_token(first)
        # the job's file changes (made again): the old link names the old file, and is refused
        ReportJob.objects.filter(pk=first.pk).update(file=second.file)
    assert client_for(tenant_a).get(f"/analytics/reports/download/{token}/").status_code == 404
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert client_for(tenant_a).get(f"/analytics/reports/download/{forged}/").status_code == 404


def test_an_expired_link_says_so(tenant_a, data_a, settings):
    job = _make(tenant_a, _member(tenant_a), [data_a[0]], "csv")
    with schema_context(tenant_a.schema_name):
        url = reports.download_url(job)
    settings.HUB_ANALYTICS_DOWNLOAD_MAX_AGE_SECONDS = -1
    answer = client_for(tenant_a).get(url)
    assert answer.status_code == 410 and b"This download link has expired" in answer.content


# --- API ----------------------------------------------------------------------------------------


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_api_member_asks_for_a_report_and_polls_it(tenant_a, data_a):
    member = _member(tenant_a)
    client = client_for(tenant_a, member.user)
    answer = _post(client, "/api/v1/analytics/reports/", {"insight_ids": [data_a[0].pk], "format": "xlsx"})
    assert answer.status_code == 202, answer.content
    job = answer.json()
    assert job["status"] == "queued" and job["download_url"] is None and answer["Location"].endswith(f"/{job['id']}/")
    _run(tenant_a, job["id"])
    done = client.get(f"/api/v1/analytics/reports/{job['id']}/").json()
    assert done["status"] == "done" and done["progress"] == 100
    assert client_for(tenant_a).get(done["download_url"]).status_code == 200


def test_api_refusals_name_the_field(tenant_a, data_a):
    client = client_for(tenant_a, _member(tenant_a).user)
    bad_format = _post(client, "/api/v1/analytics/reports/", {"insight_ids": [data_a[0].pk], "format": "docx"})
    assert bad_format.status_code == 400 and bad_format["Content-Type"] == "application/problem+json"
    assert bad_format.json()["errors"][0]["field"] == "format"
    unknown = _post(client, "/api/v1/analytics/reports/", {"insight_ids": [999999], "format": "csv"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "insight_ids"
    assert "999999" in unknown.json()["errors"][0]["message"]
    empty = _post(client, "/api/v1/analytics/reports/", {"insight_ids": [], "format": "csv"})
    assert empty.status_code == 400 and empty.json()["errors"][0]["field"] == "insight_ids"


def test_api_roles_and_tenants(tenant_a, tenant_b, data_a):
    member = _member(tenant_a)
    job = _make(tenant_a, member, [data_a[0]], "csv")
    path = f"/api/v1/analytics/reports/{job.pk}/"
    viewer = client_for(tenant_a, _member(tenant_a, "viewer").user)
    assert (
        _post(viewer, "/api/v1/analytics/reports/", {"insight_ids": [data_a[0].pk], "format": "csv"}).status_code == 403
    )
    assert client_for(tenant_a, _member(tenant_a).user).get(path).status_code == 404  # another member's job
    assert client_for(tenant_a, _member(tenant_a, "admin").user).get(path).status_code == 200
    assert client_for(tenant_b, owner_of(tenant_b)).get(path).status_code == 404
    assert client_for(tenant_a, member.user).delete(path).status_code == 204
    assert not default_storage.exists(job.file)


# --- Pages --------------------------------------------------------------------------------------


def test_reports_page_makes_a_report_and_shows_its_progress(tenant_a, data_a):
    member = _member(tenant_a)
    client = client_for(tenant_a, member.user)
    page = client.get("/analytics/reports/")
    assert page.status_code == 200 and b"Daily views" in page.content and b"Export raw events" in page.content
    made = client.post(
        "/analytics/reports/", {"form": "report", "report-insight_ids": [data_a[0].pk], "report-format": "pdf"}
    )
    assert made.status_code == 302
    job_id = int(made["Location"].rstrip("/").rsplit("/", 1)[1])
    waiting = client.get(f"/analytics/reports/jobs/{job_id}/?part=progress", HTTP_HX_REQUEST="true")
    assert b'<progress id="job-progress"' in waiting.content and b'hx-trigger="every 1s"' in waiting.content
    _run(tenant_a, job_id)
    ready = client.get(f"/analytics/reports/jobs/{job_id}/?part=progress", HTTP_HX_REQUEST="true").content
    assert b"Download PDF" in ready and b"every 1s" not in ready  # polling stops
    listed = client.get("/analytics/reports/").content
    assert b"Ready" in listed


def test_reports_page_refuses_bad_input_under_its_field(tenant_a, data_a):
    client = client_for(tenant_a, _member(tenant_a).user)
    answer = client.post("/analytics/reports/", {"form": "export", "export-date_from": "2026-03-09",
                                                 "export-date_to": "2026-03-01", "export-format": "csv"})  # fmt: skip
    assert answer.status_code == 400 and b"date_to must be on or after date_from" in answer.content


def test_job_page_of_another_tenant_or_member_is_404_and_viewers_403(tenant_a, tenant_b, data_a):
    job = _make(tenant_a, _member(tenant_a), [data_a[0]], "csv")
    path = f"/analytics/reports/jobs/{job.pk}/"
    assert client_for(tenant_b, owner_of(tenant_b)).get(path).status_code == 404
    assert client_for(tenant_a, _member(tenant_a).user).get(path).status_code == 404
    assert client_for(tenant_a, owner_of(tenant_a)).get(path).status_code == 200
    assert client_for(tenant_a, _member(tenant_a, "viewer").user).get("/analytics/reports/").status_code == 403


def test_old_jobs_and_their_files_are_deleted(tenant_a, data_a, settings):
    from datetime import timedelta

    from django.utils import timezone

    job = _make(tenant_a, _member(tenant_a), [data_a[0]], "csv")
    settings.HUB_ANALYTICS_REPORT_KEEP_DAYS = 7
    with schema_context(tenant_a.schema_name):
        assert reports.report_jobs_prune(now=timezone.now() + timedelta(days=6)) == 0
        assert reports.report_jobs_prune(now=timezone.now() + timedelta(days=8)) == 1
        assert not ReportJob.objects.filter(pk=job.pk).exists()
    assert not default_storage.exists(job.file)
