"""An export of raw events end to end: asked through the API, made by a real Celery worker in the
tenant's schema (progress saved as it goes), fetched through its signed link."""

import io
import json
import time

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django_tenants.utils import schema_context

from apps.analytics import services
from apps.analytics.models import Event, EventUuid, Person, PersonDistinctId, ReportJob
from tests.conftest import client_for, committed, owner_of, subprocess_env
from tests.processes import celery_worker

pytestmark = pytest.mark.e2e

DAY = "2026-02-10"


def _rows(n):
    return [
        [f"{DAY}T{h:02}:00:00+00:00", f"00000000-0000-4000-8000-e2e{n * 100 + h:09d}", "e2e_export", f"e2e-{h % 3}",
         json.dumps({"h": h}), f"{DAY}T{h:02}:00:00+00:00", None]
        for h in range(24)
    ]  # fmt: skip


@pytest.mark.django_db
def test_a_worker_makes_an_export_and_its_link_downloads_it(tenant_a, settings):
    def seed():
        with schema_context(tenant_a.schema_name), transaction.atomic():
            services.rows_write(_rows(1))

    committed(seed)
    client = client_for(tenant_a, owner_of(tenant_a))
    body = {"date_from": DAY, "date_to": DAY, "format": "parquet"}
    job_id = None
    try:
        with celery_worker(subprocess_env()):
            # a request of its own, committed: the task goes to the real broker after commit
            answer = committed(
                lambda: client.post("/api/v1/analytics/exports/", json.dumps(body), content_type="application/json")
            )
            assert answer.status_code == 202, answer.content
            job_id = answer.json()["id"]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                job = client.get(f"/api/v1/analytics/exports/{job_id}/").json()
                if job["status"] in ("done", "failed"):
                    break
                time.sleep(0.2)
        assert job["status"] == "done", job
        assert job["rows"] == 24 and job["progress"] == 100
        download = client_for(tenant_a).get(job["download_url"])
        assert download.status_code == 200
        table = pq.read_table(io.BytesIO(b"".join(download.streaming_content)))
        assert table.num_rows == 24
        assert [json.loads(p)["h"] for p in table.column("properties").to_pylist()] == list(range(24))
    finally:

        def undo():
            with schema_context(tenant_a.schema_name):
                for job in ReportJob.objects.filter(pk=job_id):
                    if job.file:
                        default_storage.delete(job.file)
                    job.delete()
                Event.objects.filter(event="e2e_export").delete()
                EventUuid.objects.filter(uuid__in=[r[1] for r in _rows(1)]).delete()
                ids = PersonDistinctId.objects.filter(distinct_id__startswith="e2e-")
                Person.objects.filter(pk__in=list(ids.values_list("person_id", flat=True))).delete()
                services.rollups_rebuild()  # the writer counted the events in the rollups too

        committed(undo)
