"""A real Celery worker processes new versions: a PDF with text, a scanned picture, a DOCX and an
XLSX are uploaded (committed, as through the web); the worker extracts their text (OCR for the
scan), makes the pictures, and afterwards the search finds each by words from inside it."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import schema_context

from apps.content import search, selectors, services
from apps.content.models import Blob
from tests.conftest import committed, owner_of, subprocess_env
from tests.content import files
from tests.processes import celery_worker

pytestmark = pytest.mark.e2e

UPLOADS = {
    "turbine report.pdf": (files.pdf_with_text("Meridian turbine: the anemometer was calibrated"), "anemometer"),
    "harbour scan.png": (files.scan(["Zanzibar pelican shipment"]), "pelican"),
    "letter.docx": (files.docx(["Dear Ottoline,", "the marzipan order shipped."]), "marzipan"),
    "budget.xlsx": (files.xlsx([["Saffron", 12.5], ["Cardamom", 3]]), "cardamom"),
}


@pytest.fixture(scope="module")
def worker(_session_tenants):
    with celery_worker(subprocess_env()) as process:
        yield process


def _statuses(tenant, ids) -> dict:
    with schema_context(tenant.schema_name):
        return dict(
            Blob.objects.filter(versions__document_id__in=ids).values_list("versions__document__name", "status")
        )


def _found(tenant, word) -> list[str]:
    with schema_context(tenant.schema_name):
        hits, _ = selectors.documents_find(query=word, filters=search.Filters())
    return [hit.name for hit in hits]


@pytest.mark.django_db
def test_the_worker_extracts_text_and_ocr_so_the_search_finds_every_file(worker, tenant_a):
    owner = owner_of(tenant_a)

    def upload_all():
        return [
            services.document_upload(
                tenant=tenant_a, actor=owner, fileobj=SimpleUploadedFile(name, content), name=name
            ).pk
            for name, (content, _) in UPLOADS.items()
        ]

    ids = committed(upload_all)
    try:
        assert committed(lambda: _found(tenant_a, "pelican")) == []  # not before processing
        deadline = time.monotonic() + 90
        while set(committed(lambda: _statuses(tenant_a, ids)).values()) != {Blob.Status.DONE}:
            statuses = committed(lambda: _statuses(tenant_a, ids))
            assert Blob.Status.FAILED not in statuses.values(), statuses
            assert time.monotonic() < deadline, f"not processed after 90 s: {statuses}"
            time.sleep(0.5)
        for name, (_, word) in UPLOADS.items():
            assert committed(lambda word=word: _found(tenant_a, word)) == [name], word
        with schema_context(tenant_a.schema_name):
            pictures = dict(Blob.objects.filter(versions__document_id__in=ids).values_list("mime_type", "renditions"))
        assert pictures["application/pdf"] == ["thumb", "web"] and pictures["image/png"] == ["thumb", "web"]
    finally:

        def purge():
            with schema_context(tenant_a.schema_name):
                for document in selectors.document_list(everywhere=True).filter(pk__in=ids):
                    services.document_purge(tenant=tenant_a, actor=None, document=document)

        committed(purge)
