"""A real Celery worker expires stale resumable uploads: beat's task fans out one expiry per
tenant, each runs in its tenant's schema and deletes that tenant's stale uploads and part files
(and nothing else)."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.content import tus
from apps.content.models import Upload
from apps.content.tasks import uploads_expire_all_tenants
from tests.conftest import committed, owner_of, subprocess_env
from tests.processes import celery_worker

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def worker(_session_tenants):
    with celery_worker(subprocess_env()) as process:
        yield process


def _upload(tenant, *, stale: bool) -> Upload:
    with schema_context(tenant.schema_name):
        upload = Upload.objects.create(
            id=uuid.uuid4(), created_by=owner_of(tenant), length=10, filename="a.txt",
            expires_at=timezone.now() + timedelta(hours=-1 if stale else 1),
        )  # fmt: skip
    path = tus.part_path(tenant.schema_name, upload.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"01234")
    return upload


def _exists(tenant, upload) -> bool:
    with schema_context(tenant.schema_name):
        return Upload.objects.filter(pk=upload.pk).exists()


@pytest.mark.django_db
def test_the_worker_deletes_stale_uploads_of_every_tenant_and_keeps_fresh_ones(worker, tenant_a, tenant_b):
    made = committed(lambda: [_upload(t, stale=s) for t in (tenant_a, tenant_b) for s in (True, False)])
    stale_a, fresh_a, stale_b, fresh_b = made
    try:
        with schema_context("public"):
            uploads_expire_all_tenants.delay()
        deadline = time.monotonic() + 30
        while committed(lambda: _exists(tenant_a, stale_a) or _exists(tenant_b, stale_b)):
            assert time.monotonic() < deadline, "the stale uploads are still there after 30 s"
            time.sleep(0.2)
        assert not tus.part_path(tenant_a.schema_name, stale_a.pk).exists()
        assert not tus.part_path(tenant_b.schema_name, stale_b.pk).exists()
        assert committed(lambda: _exists(tenant_a, fresh_a) and _exists(tenant_b, fresh_b))
        assert tus.part_path(tenant_a.schema_name, fresh_a.pk).exists()
    finally:
        owners = (tenant_a, tenant_a, tenant_b, tenant_b)
        committed(lambda: [tus.upload_delete(tenant=t, upload=u) for t, u in zip(owners, made, strict=True)])
