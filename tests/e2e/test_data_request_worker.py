"""A person's copy of their data end to end: asked from their page, made by a real Celery worker in
the tenant's schema, downloaded through its signed link."""

import io
import time
import zipfile

import pytest
from django.core.files.storage import default_storage
from django_tenants.utils import schema_context

from apps.compliance.models import DataRequest
from tests.conftest import client_for, committed, owner_of, subprocess_env
from tests.processes import celery_worker

pytestmark = pytest.mark.e2e


@pytest.mark.django_db
def test_a_worker_makes_the_copy_and_its_link_downloads_it(tenant_a):
    owner = owner_of(tenant_a)
    client = client_for(tenant_a, owner)
    request_id = None
    try:
        with celery_worker(subprocess_env()):
            answer = committed(lambda: client.post("/compliance/my-data/", {"kind": "portability", "law": "ccpa"}))
            assert answer.status_code == 302, answer.content
            request_id = int(answer["Location"].rstrip("/").rsplit("/", 1)[1])
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with schema_context(tenant_a.schema_name):
                    found = DataRequest.objects.get(pk=request_id)
                if found.status in ("done", "failed"):
                    break
                time.sleep(0.2)
        assert found.status == "done" and found.progress == 100, (found.status, found.resolution)
        page = client.get(f"/compliance/requests/{request_id}/").content.decode()
        link = page.split('href="/compliance/requests/download/', 1)[1].split('"', 1)[0]
        download = client.get(f"/compliance/requests/download/{link}")
        assert download.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
        assert owner.email in archive.read("identity.json").decode()
    finally:

        def undo():
            with schema_context(tenant_a.schema_name):
                for made in DataRequest.objects.filter(pk=request_id):
                    if made.file:
                        default_storage.delete(made.file)
                    made.delete()

        committed(undo)
