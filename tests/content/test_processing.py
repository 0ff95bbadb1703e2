"""Processing a version (apps.content.processing through services.version_process and the task):
text from PDF, DOCX, XLSX and text files, OCR of scans and pictures, thumbnails; once per blob;
limits on what a hostile file may cost; failures retried, then reported to the uploader."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import processing, search, selectors, services, storage
from apps.content.models import Blob, Version
from apps.content.tasks import process_version
from apps.events.models import Event
from apps.notifications.models import Notification
from apps.notifications.services import notify_for_events

from . import files


def upload(tenant, owner, name: str, content: bytes):
    return services.document_upload(tenant=tenant, actor=owner, fileobj=SimpleUploadedFile(name, content), name=name)


def processed(tenant, document) -> Blob:
    services.version_process(tenant=tenant, version_id=document.current_id)
    with tenant_context(tenant):
        return Blob.objects.get(versions__pk=document.current_id)


def found(tenant, query: str, **filters) -> list[str]:
    with tenant_context(tenant):
        hits, _ = selectors.documents_find(query=query, filters=search.Filters(**filters))
    return [hit.name for hit in hits]


def test_text_is_extracted_from_pdf_docx_xlsx_and_text_files(tenant_a, owner_a):
    made = {
        "turbine.pdf": files.pdf_with_text("Meridian turbine report: anemometer calibrated"),
        "letter.docx": files.docx(["Dear Ottoline,", "the marzipan order shipped"]),
        "budget.xlsx": files.xlsx([["Saffron", 12.5], ["Cardamom", 3]]),
        "notes.txt": b"Kumquat harvest notes",
    }
    words = {"turbine.pdf": "anemometer", "letter.docx": "marzipan", "budget.xlsx": "cardamom", "notes.txt": "kumquat"}
    for name, content in made.items():
        blob = processed(tenant_a, upload(tenant_a, owner_a, name, content))
        assert blob.status == Blob.Status.DONE and blob.processed_at
        assert words[name] in blob.text.lower()
        assert found(tenant_a, words[name]) == [name]
    with tenant_context(tenant_a):  # a PDF's first page becomes its pictures; office files have none
        pictures = {blob.text.split()[0]: blob.renditions for blob in Blob.objects.all()}
    assert pictures["Meridian"] == ["thumb", "web"] and pictures["Dear"] == []


def test_scanned_pictures_and_pdfs_are_read_with_ocr_and_get_thumbnails(tenant_a, owner_a):
    picture = processed(tenant_a, upload(tenant_a, owner_a, "scan.png", files.scan(["Zanzibar pelican shipment"])))
    assert "pelican" in picture.text.lower() and picture.renditions == ["thumb", "web"]
    thumb = storage.store().open(processing.derived_name(tenant_a.schema_name, picture.sha256, "thumb")).read()
    assert thumb[:4] == b"RIFF" and thumb[8:12] == b"WEBP"
    pdf = processed(
        tenant_a, upload(tenant_a, owner_a, "scan.pdf", files.scan(["Quarterly harbour invoice"], fmt="PDF"))
    )
    assert "harbour" in pdf.text.lower()
    assert found(tenant_a, "harbour") == ["scan.pdf"]


def test_ocr_reads_in_the_languages_the_tenant_chose(tenant_a, owner_a, monkeypatch):
    services.content_settings_update(
        tenant=tenant_a, actor=owner_a, keep_image_location=False, ocr_languages=["deu", "fra"]
    )
    assert selectors.content_settings_get(tenant=tenant_a).ocr_languages == "deu+fra"
    commands, run = [], processing._run
    monkeypatch.setattr(processing, "_run", lambda command, what: commands.append(command) or run(command, what))
    blob = processed(tenant_a, upload(tenant_a, owner_a, "brief.png", files.scan(["Die Straße über die Brücke"])))
    assert ["-l", "deu+fra"] == commands[-1][3:5]
    assert "straße" in blob.text.lower() and "brücke" in blob.text.lower()


def test_a_blob_is_processed_once_however_many_documents_share_it(tenant_a, owner_a, monkeypatch):
    first = upload(tenant_a, owner_a, "a.txt", b"shared walrus words")
    processed(tenant_a, first)
    calls = []
    monkeypatch.setattr(processing, "process", lambda *a, **k: calls.append(a))
    second = upload(tenant_a, owner_a, "b.txt", b"shared walrus words")  # the same bytes: the same blob
    copy = services.document_copy(tenant=tenant_a, actor=owner_a, document=first, folder=None, name="c.txt")
    processed(tenant_a, second)
    assert calls == []  # already done: its text is reused
    assert sorted(found(tenant_a, "walrus")) == ["a.txt", "b.txt", "c.txt"]
    assert copy.current.blob_id == first.current.blob_id


def test_limits_cap_the_text_kept_and_the_pages_read(tenant_a, owner_a, settings):
    settings.HUB_CONTENT_PROCESSING = {**settings.HUB_CONTENT_PROCESSING, "text_chars": 1000, "ocr_pages": 1}
    long = processed(tenant_a, upload(tenant_a, owner_a, "long.txt", b"lorem " * 10_000))
    assert len(long.text) == 1000
    two_pages = _two_page_scan(["Firstpage albatross"], ["Secondpage cormorant"])
    blob = processed(tenant_a, upload(tenant_a, owner_a, "two.pdf", two_pages))
    assert "albatross" in blob.text.lower() and "cormorant" not in blob.text.lower()


def _two_page_scan(first, second) -> bytes:
    import io

    from PIL import Image

    pages = [Image.open(io.BytesIO(files.scan(lines))).convert("RGB") for lines in (first, second)]
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=150, save_all=True, append_images=pages[1:])
    return out.getvalue()


def test_a_program_that_runs_too_long_is_stopped_and_said_so(tenant_a, owner_a, settings):
    settings.HUB_CONTENT_PROCESSING = {**settings.HUB_CONTENT_PROCESSING, "program_seconds": 0.001}
    document = upload(tenant_a, owner_a, "slow.png", files.scan(["anything"]))
    with tenant_context(tenant_a):  # the task runs in the schema it is sent from
        process_version.apply(args=[document.current_id])
        blob = Blob.objects.get(versions__pk=document.current_id)
    assert blob.status == Blob.Status.FAILED
    assert "took longer than" in blob.status_reason


def test_a_damaged_file_fails_at_once_and_its_uploader_is_told(tenant_a, owner_a):
    document = upload(tenant_a, owner_a, "broken.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog")
    with tenant_context(tenant_a):
        process_version.apply(args=[document.current_id])
        blob = Blob.objects.get(versions__pk=document.current_id)
        assert blob.status == Blob.Status.FAILED
        assert blob.status_reason == "Reading the PDF's text failed: the file may be damaged."
        event = Event.objects.filter(type="content.processing_failed").latest("occurred_at")
        assert event.payload["user_id"] == owner_a.pk and event.payload["name"] == "broken.pdf"
        notify_for_events([event])
        note = Notification.objects.get(event=event)
    assert note.user_id == owner_a.pk
    assert note.title == "Version 1 of “broken.pdf” could not be processed: " + blob.status_reason


def test_other_failures_are_retried_then_reported_and_retry_starts_again(tenant_a, owner_a, monkeypatch):
    document = upload(tenant_a, owner_a, "notes.txt", b"flaky storage words")
    tries = []

    def broken(*args, **kwargs):
        tries.append(1)
        raise OSError("the store is down")

    monkeypatch.setattr(storage, "open_blob", broken)
    with tenant_context(tenant_a):
        process_version.apply(args=[document.current_id])
    assert len(tries) == 5  # the first try and four retries (with backoff on a real worker)
    with tenant_context(tenant_a):
        blob = Blob.objects.get(versions__pk=document.current_id)
    assert blob.status == Blob.Status.FAILED and blob.status_reason.startswith("Something went wrong on our side")

    monkeypatch.undo()
    services.document_process_again(tenant=tenant_a, actor=owner_a, document=document)
    with tenant_context(tenant_a):
        assert Blob.objects.get(pk=blob.pk).status == Blob.Status.PENDING
        assert Event.objects.filter(type="content.processing_retried").exists()
    assert processed(tenant_a, document).status == Blob.Status.DONE
    assert found(tenant_a, "flaky") == ["notes.txt"]


def test_a_version_purged_before_its_turn_is_skipped(tenant_a, owner_a):
    assert services.version_process(tenant=tenant_a, version_id=987654) is None
    with tenant_context(tenant_a):
        assert not Version.objects.filter(pk=987654).exists()
