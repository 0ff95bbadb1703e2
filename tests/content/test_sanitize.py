"""What uploads lose or are refused for: the EXIF location of pictures (unless the tenant keeps it;
the files settings page), zip bombs."""

import hashlib
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context
from PIL import Image

from apps.content import services, storage
from apps.core.registry import registry
from apps.events.models import Event
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

ORIENTATION, MAKE, GPS = 0x0112, 0x010F, 0x8825
PARIS = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}


def located_picture(fmt: str) -> bytes:
    """A 64 × 48 picture whose EXIF says where it was taken, its orientation and camera."""
    exif = Image.Exif()
    exif[ORIENTATION], exif[MAKE], exif[GPS] = 6, "Hub Camera", PARIS
    picture = Image.new("RGB", (64, 48), (200, 30, 90))
    if fmt == "TIFF":  # Pillow's TIFF writer takes EXIF read from a file, not one built by hand
        jpeg = io.BytesIO()
        picture.save(jpeg, "JPEG", exif=exif)
        exif = Image.open(jpeg).getexif()
    out = io.BytesIO()
    picture.save(out, fmt, exif=exif)
    return out.getvalue()


def stored(tenant, document) -> bytes:
    with tenant_context(tenant):
        sha = document.current.blob.sha256
    with storage.open_blob(tenant.schema_name, sha) as f:
        return f.read()


def upload(tenant, user, content: bytes, name: str):
    return services.document_upload(tenant=tenant, actor=user, fileobj=SimpleUploadedFile(name, content), name=name)


@pytest.mark.parametrize("fmt,name", [("JPEG", "p.jpg"), ("PNG", "p.png"), ("WEBP", "p.webp"), ("TIFF", "p.tiff")])
def test_pictures_lose_their_location_and_keep_the_rest(tenant_a, owner_a, fmt, name):
    original = located_picture(fmt)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS)  # (the test picture has a location)
    document = upload(tenant_a, owner_a, original, name)
    kept = stored(tenant_a, document)
    picture = Image.open(io.BytesIO(kept))
    exif = picture.getexif()
    assert GPS not in exif and not exif.get_ifd(GPS)
    assert exif[MAKE] == "Hub Camera"
    before = Image.open(io.BytesIO(original))
    assert picture.size == before.size and exif[ORIENTATION] == 6
    # The same pixels: nothing is re-encoded.
    assert picture.tobytes() == before.tobytes()
    # What is stored, its hash and size are those of the bytes kept.
    with tenant_context(tenant_a):
        blob = document.current.blob
        assert (blob.sha256, blob.size) == (hashlib.sha256(kept).hexdigest(), len(kept))


def test_a_jpegs_compressed_picture_is_copied_byte_for_byte(tenant_a, owner_a):
    original = located_picture("JPEG")
    kept = stored(tenant_a, upload(tenant_a, owner_a, original, "scan.jpg"))
    start_of_scan = original.index(b"\xff\xda")
    assert kept.endswith(original[start_of_scan:]) and len(kept) < len(original)


def test_a_tenant_that_keeps_locations_stores_the_picture_as_sent(tenant_a, owner_a):
    services.content_settings_update(tenant=tenant_a, actor=owner_a, keep_image_location=True)
    original = located_picture("JPEG")
    kept = stored(tenant_a, upload(tenant_a, owner_a, original, "holiday.jpg"))
    assert kept == original
    assert Image.open(io.BytesIO(kept)).getexif().get_ifd(GPS)[1] == "N"


def test_the_files_settings_page_is_for_admins_and_is_per_tenant(tenant_a, tenant_b, owner_a):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    assert client_for(tenant_a, member).get("/content/settings/").status_code == 403
    assert client_for(tenant_b, owner_a).get("/content/settings/").status_code in (302, 403)  # not b's member
    client = client_for(tenant_a, owner_a)
    page = client.get("/content/settings/")
    assert page.status_code == 200 and "Keep the location in uploaded pictures" in page.content.decode()
    assert "Files settings" in client.get("/content/").content.decode()  # linked from the files page
    assert "Languages of scanned text" in page.content.decode()
    response = client.post("/content/settings/", {"keep_image_location": "on", "ocr_languages": ["eng", "fra"]})
    assert response.status_code == 302
    assert "Files settings saved." in client.get(response["Location"]).content.decode()
    assert kept_by(tenant_a) and not kept_by(tenant_b)
    with tenant_context(tenant_a):
        event = Event.objects.get(type="content.settings_changed")
        assert event.payload == {"keep_image_location": True, "ocr_languages": "eng+fra"}
        assert registry.event_sentence(event).endswith("; scans are read in English, French")
    refused = client.post("/content/settings/", {"keep_image_location": "on"})
    assert refused.status_code == 200 and "Choose at least one language." in refused.content.decode()
    client.post("/content/settings/", {"ocr_languages": ["eng"]})
    assert not kept_by(tenant_a)


def kept_by(tenant) -> bool:
    from apps.content.selectors import content_settings_get

    return content_settings_get(tenant=tenant).keep_image_location


# --- zip bombs ---------------------------------------------------------------------------------


def archive(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def refusal(tenant, user, content: bytes, name: str) -> str:
    with pytest.raises(ValidationError) as caught:
        upload(tenant, user, content, name)
    return " ".join(caught.value.message_dict["file"])


def test_an_archive_that_would_unpack_to_absurd_sizes_is_refused(tenant_a, owner_a):
    bomb = archive({"zeros.bin": bytes(64 * 2**20)})  # 64 MB of zeros in ~64 kB
    message = refusal(tenant_a, owner_a, bomb, "photos.zip")
    assert "“photos.zip” was refused: it would unpack to" in message and "times its size" in message
    with tenant_context(tenant_a):
        from apps.content.models import Document

        assert not Document.objects.filter(name="photos.zip").exists()


def test_an_office_file_with_a_bomb_inside_is_refused_too(tenant_a, owner_a):
    docx = archive({"[Content_Types].xml": b"<Types/>", "word/document.xml": b" " * (64 * 2**20)})
    assert "would unpack to" in refusal(tenant_a, owner_a, docx, "contract.docx")


def test_archives_over_the_entry_or_size_limits_are_refused(tenant_a, owner_a, settings):
    settings.HUB_CONTENT_ZIP_LIMITS = {"max_uncompressed_bytes": 10_000, "max_entries": 20, "max_ratio": 200}
    many = archive({f"f{i}.txt": b"x" for i in range(21)})
    assert "it holds 21 files (at most 20)" in refusal(tenant_a, owner_a, many, "many.zip")
    big = archive({"a.bin": bytes(range(256)) * 50})
    assert "it would unpack to 12.5\xa0KB (at most 9.8\xa0KB)" in refusal(tenant_a, owner_a, big, "big.zip")


def test_ordinary_archives_and_damaged_ones(tenant_a, owner_a):
    fine = archive({"readme.txt": b"hello " * 1000, "data.csv": b"a,b\n1,2\n"})
    assert upload(tenant_a, owner_a, fine, "bundle.zip").name == "bundle.zip"
    damaged = fine[:40] + b"\x00" * 100
    assert "damaged archive" in refusal(tenant_a, owner_a, damaged, "broken.zip")


def test_the_api_names_the_field_when_a_bomb_is_refused(tenant_a):
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["content:write"])[1])
    bomb = archive({"zeros.bin": bytes(64 * 2**20)})
    response = api.post("/api/v1/content/documents/", {"file": SimpleUploadedFile("bomb.zip", bomb)})
    assert response.status_code in (400, 422) and response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert "file" in str(body) and "was refused" in str(body)
