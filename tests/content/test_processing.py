"""Processing a version (apps.content.processing through services.version_process and the task):
text from PDF, DOCX, XLSX and text files, OCR of scans and pictures, thumbnails; once per blob;
limits on what a hostile file may cost; failures retried, then reported to the uploader."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import processing, search, selectors, services, storage
from apps.content.models import Blob, Version
from apps.content.tasks import process_version
from apps.events.models import Event
from apps.notifications.models import Notification
from apps.notifications.services import notify_for_events
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

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
        blobs = Blob.objects.filter(versions__document__name__in=["turbine.pdf", "letter.docx"])
        pictures = dict(blobs.values_list("versions__document__name", "renditions"))
    assert pictures == {"turbine.pdf": ["thumb", "web"], "letter.docx": []}


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


def test_pictures_are_served_behind_the_document_permission_with_immutable_caching(tenant_a, tenant_b, owner_a):
    document = upload(tenant_a, owner_a, "photo.png", files.scan(["cached picture"]))
    client = client_for(tenant_a, owner_a)
    url = f"/content/documents/{document.pk}/versions/1/picture/thumb.webp"
    assert client.get(url).status_code == 404  # not processed yet
    processed(tenant_a, document)
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(url, headers={"If-None-Match": response["ETag"]}).status_code == 304
    assert client.get(url.replace("thumb.webp", "original.webp")).status_code == 404
    assert client.get(url.replace("/versions/1/", "/versions/2/")).status_code == 404
    assert client_for(tenant_a).get(url).status_code == 302  # signed out
    assert client_for(tenant_b, owner_a).get(url).status_code in (302, 403, 404)  # not B's member
    page = client.get(f"/content/documents/{document.pk}/").content.decode()
    assert url in page and "Processed" in page and "words found" in page


def test_the_document_page_says_why_processing_failed_and_offers_retry(tenant_a, owner_a):
    document = upload(tenant_a, owner_a, "broken.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog")
    services.version_process_failed(tenant=tenant_a, version_id=document.current_id, reason="It is damaged.")
    client = client_for(tenant_a, owner_a)
    page = client.get(f"/content/documents/{document.pk}/").content.decode()
    assert "Processing failed" in page and "It is damaged." in page and ">Retry</button>" in page
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    viewer_page = client_for(tenant_a, viewer).get(f"/content/documents/{document.pk}/").content.decode()
    assert "It is damaged." in viewer_page and ">Retry</button>" not in viewer_page
    assert client_for(tenant_a, viewer).post(f"/content/documents/{document.pk}/process/").status_code == 403
    response = client.post(f"/content/documents/{document.pk}/process/")
    assert response.status_code == 302
    assert "will be processed again" in client.get(response["Location"]).content.decode()
    again = client.post(f"/content/documents/{document.pk}/process/", follow=True).content.decode()
    assert "Waiting to be processed" in again


def test_the_api_shows_processing_and_retries_it(tenant_a, tenant_b, owner_a):
    document = upload(tenant_a, owner_a, "broken.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<</Type/Catalog")
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["content:write"])[1])
    url = f"/api/v1/content/documents/{document.pk}"
    body = api.get(f"{url}/").json()
    assert (body["processing"], body["processing_error"], body["pictures"]) == ("pending", "", {})
    services.version_process_failed(tenant=tenant_a, version_id=document.current_id, reason="It is damaged.")
    assert api.get(f"{url}/").json()["processing_error"] == "It is damaged."
    retried = api.post(f"{url}/process/")
    assert retried.status_code == 202 and retried.json()["processing"] == "pending"
    assert api.get(f"{url}/pictures/thumb/").status_code == 404
    api_b = api_client(tenant_b, make_key(tenant_b, scope_list=["content:write"])[1])
    assert api_b.post(f"{url}/process/").status_code == 404 and api_b.get(f"{url}/pictures/thumb/").status_code == 404
    picture = processed(tenant_a, upload(tenant_a, owner_a, "p.png", files.scan(["api picture"])))
    with tenant_context(tenant_a):
        pk = Version.objects.get(blob=picture).document_id
    shown = api.get(f"/api/v1/content/documents/{pk}/").json()["pictures"]
    assert shown == {kind: f"/api/v1/content/documents/{pk}/pictures/{kind}/" for kind in ("thumb", "web")}
    thumb = api.get(shown["thumb"])
    assert thumb.status_code == 200 and thumb["Content-Type"] == "image/webp"
    refused = api.post(f"/api/v1/content/documents/{pk}/process/")  # processed already
    assert refused.status_code == 422 and refused["Content-Type"] == "application/problem+json"
    assert "“p.png” is processed." in str(refused.json())


def test_the_command_sends_unprocessed_files_and_with_failed_those_that_failed(
    tenant_a, owner_a, django_capture_on_commit_callbacks
):
    from django.core.management import CommandError, call_command

    with tenant_context(tenant_a):  # (what other modules committed in this tenant is left aside)
        before = {s: Blob.objects.filter(status=s).count() for s in (Blob.Status.PENDING, Blob.Status.FAILED)}
    waiting = upload(tenant_a, owner_a, "waiting.txt", b"never processed")
    same = services.document_copy(tenant=tenant_a, actor=owner_a, document=waiting, folder=None, name="copy.txt")
    broken = upload(tenant_a, owner_a, "broken.txt", b"it failed once")
    services.version_process_failed(tenant=tenant_a, version_id=broken.current_id, reason="It failed.")
    processed(tenant_a, upload(tenant_a, owner_a, "done.txt", b"all done"))
    out = io.StringIO()
    with django_capture_on_commit_callbacks() as sent:
        call_command("content_process", "--tenant", tenant_a.slug, stdout=out)
    pending = before[Blob.Status.PENDING] + 1  # one blob for two documents
    assert f"{pending:,} file{'s' if pending != 1 else ''} sent" in out.getvalue() and len(sent) == pending
    assert same.current.blob_id == waiting.current.blob_id
    with django_capture_on_commit_callbacks() as sent:
        call_command("content_process", "--tenant", tenant_a.slug, "--failed", stdout=out)
    both = pending + before[Blob.Status.FAILED] + 1
    assert f"{both:,} files sent to be processed." in out.getvalue() and len(sent) == both
    with tenant_context(tenant_a):
        assert Blob.objects.get(versions__document=broken).status == Blob.Status.PENDING
    with pytest.raises(CommandError, match="No tenant with the slug “nope”."):
        call_command("content_process", "--tenant", "nope")
