"""Raw events exported as CSV or Parquet: the days of the organisation's time zone, in time
order, with persons and properties, streamed a day at a time; the API; tenants apart."""

import csv
import io
import json
from datetime import UTC, datetime

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import schema_context

from apps.analytics import exports, reports, services
from apps.analytics.selectors import person_of
from apps.tenancy.models import Tenant
from tests.conftest import client_for, owner_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Report files go to a folder of the test's own (the default storage follows MEDIA_ROOT)."""
    settings.MEDIA_ROOT = str(tmp_path)


# New York is UTC-5 in March before the 8th: its 5 March runs from 05:00 UTC on the 5th to 05:00 UTC on the 6th.
MOMENTS = [
    datetime(2026, 3, 5, 4, 59, tzinfo=UTC),  # 4 March in New York: left out
    datetime(2026, 3, 5, 5, 0, tzinfo=UTC),
    datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 5, 12, 0, 1, tzinfo=UTC),
    datetime(2026, 3, 5, 23, 0, tzinfo=UTC),
    datetime(2026, 3, 6, 4, 59, 59, tzinfo=UTC),  # still 5 March in New York
    datetime(2026, 3, 6, 5, 0, tzinfo=UTC),  # 6 March: left out
]


@pytest.fixture
def events_a(tenant_a):
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="America/New_York")
    tenant_a.refresh_from_db()
    rows = []
    for n, ts in enumerate(MOMENTS, start=1):
        props = {"n": n, "text": 'a,b "quoted"\nline'} if n == 3 else {"n": n}
        rows.append([ts.isoformat(), f"00000000-0000-4000-8000-{n:012d}", "view", f"d{n % 2}", json.dumps(props),
                     ts.isoformat(), None])  # fmt: skip
    with schema_context(tenant_a.schema_name):
        services.rows_write(rows)
    yield tenant_a
    Tenant.objects.filter(pk=tenant_a.pk).update(time_zone="UTC")


def _export(tenant, fmt, settings, chunk=2):
    settings.HUB_ANALYTICS_EXPORT_CHUNK_ROWS = chunk
    seen = []
    with schema_context(tenant.schema_name):
        out = io.BytesIO()
        count = exports.events_export(
            out,
            format=fmt,
            date_from=datetime(2026, 3, 5).date(),
            date_to=datetime(2026, 3, 5).date(),
            tz=reports._zone(tenant),
            on_progress=lambda pct, n: seen.append((pct, n)),
        )
    return count, out.getvalue(), seen


def test_csv_export_holds_the_local_days_events_in_order_a_day_at_a_time(events_a, settings):
    count, data, progress = _export(events_a, "csv", settings)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert count == len(rows) == 5
    assert [r["uuid"][-2:] for r in rows] == ["02", "03", "04", "05", "06"]
    assert rows[0]["timestamp"] == "2026-03-05T05:00:00.000000Z"
    assert json.loads(rows[1]["properties"]) == {"n": 3, "text": 'a,b "quoted"\nline'}
    with schema_context(events_a.schema_name):
        assert rows[0]["person_uuid"] == str(person_of("d0").uuid)
    assert progress == [(99, 5)]  # a day at a time (one day here); 100 only once the file is saved


def test_parquet_export_has_typed_columns(events_a, settings):
    count, data, _ = _export(events_a, "parquet", settings)
    table = pq.read_table(io.BytesIO(data))
    assert count == table.num_rows == 5
    assert table.column_names == exports.COLUMNS
    assert table.column("timestamp").to_pylist()[0] == MOMENTS[1]
    assert table.column("person_uuid").null_count == 0 and table.column("uuid").to_pylist()[0].endswith("0002")
    assert json.loads(table.column("properties").to_pylist()[1])["n"] == 3


def test_an_organisation_without_events_exports_an_empty_file(tenant_b, settings):
    count, data, _ = _export(tenant_b, "csv", settings)
    assert count == 0 and data.decode("utf-8-sig").strip() == ",".join(exports.COLUMNS)


def test_api_export_job_and_its_link(events_a, tenant_b):
    member = MembershipFactory(tenant=events_a, role="member")
    client = client_for(events_a, member.user)
    body = {"date_from": "2026-03-05", "date_to": "2026-03-05", "format": "parquet"}
    answer = client.post("/api/v1/analytics/exports/", json.dumps(body), content_type="application/json")
    assert answer.status_code == 202, answer.content
    job_id = answer.json()["id"]
    with schema_context(events_a.schema_name):
        job = reports.report_job_run(job_id=job_id, tenant=events_a)
    assert job.rows == 5 and job.file.startswith("analytics/t_alpha/reports/") and job.file.endswith(".parquet")
    done = client.get(f"/api/v1/analytics/exports/{job_id}/").json()
    assert done["status"] == "done" and done["rows"] == 5
    download = client_for(events_a).get(done["download_url"])
    assert download.status_code == 200 and download["Content-Type"] == "application/vnd.apache.parquet"
    assert pq.read_table(io.BytesIO(b"".join(download.streaming_content))).num_rows == 5
    assert client_for(tenant_b, owner_of(tenant_b)).get(f"/api/v1/analytics/exports/{job_id}/").status_code == 404
    assert client_for(tenant_b).get(done["download_url"]).status_code == 404
    # a report is not an export: the exports endpoint does not list or show it
    assert client.get(f"/api/v1/analytics/reports/{job_id}/").status_code == 404
    default_storage.delete(job.file)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date_from": "2026-03-05", "date_to": "2026-03-01", "format": "csv"}, "date_to"),
        ({"date_from": "2025-01-01", "date_to": "2026-03-01", "format": "csv"}, "date_to"),
        ({"date_from": "5 March", "date_to": "2026-03-01", "format": "csv"}, "date_from"),
        ({"date_from": "2026-03-05", "date_to": "2026-03-05", "format": "pdf"}, "format"),
    ],
)
def test_api_export_refusals_name_the_field(tenant_a, body, field):
    client = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="member").user)
    answer = client.post("/api/v1/analytics/exports/", json.dumps(body), content_type="application/json")
    assert answer.status_code in (400, 422) and answer["Content-Type"] == "application/problem+json"
    assert answer.json()["errors"][0]["field"] == field
