"""Text from presentations, OpenDocument files and web pages; a PDF's page previews, drawn when
first asked for; the text shown on the document page; what processing does with a file it cannot
read or has nothing to read in (real files through apps.content.processing, no mocks)."""

import secrets
import zipfile
from pathlib import Path

import pytest
from django_tenants.utils import tenant_context

from apps.content import processing, search, storage
from apps.content.models import Blob, SearchWord
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from . import files
from .test_processing import found, processed, upload

HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Quarterly lighthouse</title><style>.x{color:red}</style>"
    b"<script>var hidden = 'zeppelin';</script></head><body><h1>Harbour &amp; pier</h1>"
    b"<p>The <b>albatross</b> landed.</p><!-- a comment: walrus --></body></html>"
)


def test_text_from_pptx_odt_ods_and_html_is_extracted_searchable_and_shown(tenant_a, owner_a):
    made = {
        "deck.pptx": files.pptx([["Opening slide", "quokka numbers"], ["Closing slide"]]),
        "letter.odt": files.opendocument(
            "text", "<office:text><text:h>Greetings</text:h><text:p>the <text:span>pangolin</text:span> "
            "arrived</text:p></office:text>"
        ),
        "budget.ods": files.opendocument(
            "spreadsheet", "<office:spreadsheet><table:table table:name='Sheet1'><table:table-row>"
            "<table:table-cell><text:p>Nutmeg</text:p></table:table-cell><table:table-cell><text:p>42</text:p>"
            "</table:table-cell></table:table-row></table:table></office:spreadsheet>"
        ),
        "page.html": HTML_PAGE,
    }  # fmt: skip
    texts = {}
    for name, content in made.items():
        blob = processed(tenant_a, upload(tenant_a, owner_a, name, content))
        assert blob.status == Blob.Status.DONE, (name, blob.status_reason)
        texts[name] = blob.text
    assert texts["deck.pptx"] == "Opening slide\nquokka numbers\nClosing slide"
    assert texts["letter.odt"] == "Greetings\nthe pangolin arrived"
    assert texts["budget.ods"] == "Nutmeg\n42"
    assert texts["page.html"] == "Quarterly lighthouse\nHarbour & pier\nThe albatross landed."
    for word, name in [("quokka", "deck.pptx"), ("pangolin", "letter.odt"), ("nutmeg", "budget.ods"),
                       ("albatross", "page.html")]:  # fmt: skip
        assert found(tenant_a, word) == [name]
    assert found(tenant_a, "zeppelin") == [] and found(tenant_a, "walrus") == []  # scripts, comments: not text

    with tenant_context(tenant_a):
        pk = Blob.objects.get(text=texts["page.html"]).versions.get().document_id
    page = client_for(tenant_a, owner_a).get(f"/content/documents/{pk}/").content.decode()
    assert "Text found in the file" in page and "Harbour &amp; pier" in page and "<b>albatross" not in page


def test_slides_are_read_in_their_order_not_the_archive_s(tenant_a, owner_a):
    slides = [[f"slide {n} marker{n}"] for n in range(1, 12)]
    blob = processed(tenant_a, upload(tenant_a, owner_a, "long.pptx", files.pptx(slides)))
    assert blob.text.splitlines() == [f"slide {n} marker{n}" for n in range(1, 12)]


@pytest.fixture
def three_pages(tenant_a, owner_a, settings):
    settings.HUB_CONTENT_PROCESSING = {**settings.HUB_CONTENT_PROCESSING, "preview_pages": 2}
    token = secrets.token_hex(4)  # bytes of this run's own: the store outlives test databases
    pages = files.pdf_pages([f"first page {token}", "second page", "third page"])
    document = upload(tenant_a, owner_a, "atlas.pdf", pages)
    blob = processed(tenant_a, document)
    return document, blob


def test_a_pdf_gets_a_preview_per_page_drawn_on_first_request_up_to_the_limit(
    tenant_a, owner_a, three_pages, blobs_dir
):
    document, blob = three_pages
    assert blob.pages == 3 and blob.renditions == ["thumb", "web"]
    client = client_for(tenant_a, owner_a)
    page = client.get(f"/content/documents/{document.pk}/").content.decode()
    base = f"/content/documents/{document.pk}/versions/1/pages/"
    assert f"{base}1.webp" in page and f"{base}2.webp" in page and f"{base}3.webp" not in page
    assert "The first 2 of 3 pages" in page and 'loading="lazy"' in page

    drawn = blobs_dir / processing.page_name(tenant_a.schema_name, blob.sha256, 2)
    assert not drawn.exists()  # nothing drawn until someone looks
    response = client.get(f"{base}2.webp")
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    body = b"".join(response.streaming_content)
    assert body[:4] == b"RIFF" and body[8:12] == b"WEBP"
    assert drawn.exists() and drawn.read_bytes() == body
    assert client.get(f"{base}2.webp", headers={"If-None-Match": response["ETag"]}).status_code == 304
    again = client.get(f"{base}2.webp")  # kept: served from the store, the same bytes
    assert b"".join(again.streaming_content) == body
    for missing in ("0", "3", "99"):
        assert client.get(f"{base}{missing}.webp").status_code == 404
    assert client.get(f"/content/documents/{document.pk}/versions/2/pages/1.webp").status_code == 404


def test_page_previews_through_the_api_and_never_for_another_tenant(tenant_a, tenant_b, owner_a, three_pages):
    document, _ = three_pages
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["content:read"])[1])
    url = f"/api/v1/content/documents/{document.pk}"
    assert api.get(f"{url}/").json()["pages"] == 3
    shown = api.get(f"{url}/pages/1/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/webp"
    assert api.get(f"{url}/pages/3/").status_code == 404
    api_b = api_client(tenant_b, make_key(tenant_b, scope_list=["content:read"])[1])
    assert api_b.get(f"{url}/pages/1/").status_code == 404
    picture = f"/content/documents/{document.pk}/versions/1/pages/1.webp"
    assert client_for(tenant_b, owner_a).get(picture).status_code in (302, 403, 404)  # not B's member
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    assert client_for(tenant_a, viewer).get(picture).status_code == 200


def test_other_files_have_no_pages_and_a_text_file_no_preview(tenant_a, owner_a):
    document = upload(tenant_a, owner_a, "notes.txt", b"plain words")
    blob = processed(tenant_a, document)
    assert blob.pages is None
    client = client_for(tenant_a, owner_a)
    assert client.get(f"/content/documents/{document.pk}/versions/1/pages/1.webp").status_code == 404
    assert 'id="pages"' not in client.get(f"/content/documents/{document.pk}/").content.decode()


def test_a_file_of_no_readable_kind_is_processed_with_no_text_and_no_pictures(tenant_a, owner_a):
    blob = processed(tenant_a, upload(tenant_a, owner_a, "bundle.bin", b"\x00\x01\x02 binary \xff" * 50))
    assert (blob.status, blob.text, blob.renditions, blob.pages) == (Blob.Status.DONE, "", [], None)


def _process(tmp_path: Path, content: bytes, mime_type: str):
    path = tmp_path / "file"
    path.write_bytes(content)
    return processing.process(path, mime_type, schema="t_unused", sha256="0" * 64, languages="eng")


def _zip(members: dict[str, str]) -> bytes:
    import io

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in members.items():
            # A fixed time: these bytes name parametrized tests, which every pytest-xdist worker
            # must collect alike (a member's time is the second the module was imported).
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mime_type", "content", "words"),
    [
        (processing.DOCX, b"not a zip", "The Word document could not be read"),
        (processing.DOCX, _zip({"word/other.xml": "<x/>"}), "The Word document could not be read"),
        (processing.PPTX, b"not a zip", "The presentation could not be read"),
        (processing.PPTX, _zip({"ppt/slides/slide1.xml": "<unclosed"}), "The presentation could not be read"),
        ("application/vnd.oasis.opendocument.text", b"not a zip", "The OpenDocument file could not be read"),
        ("application/vnd.oasis.opendocument.text", _zip({"mimetype": "x"}), "The OpenDocument file could not be"),
        (processing.XLSX, b"not a zip", "The spreadsheet could not be read"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "The picture could not be read"),
    ],
)
def test_damaged_files_are_refused_with_the_reason_in_words(tmp_path, mime_type, content, words):
    with pytest.raises(processing.Unreadable, match=words):
        _process(tmp_path, content, mime_type)


def test_a_huge_spreadsheet_stops_at_the_text_limit(tmp_path, settings):
    settings.HUB_CONTENT_PROCESSING = {**settings.HUB_CONTENT_PROCESSING, "text_chars": 50}
    text, _, _ = _process(tmp_path, files.xlsx([[f"row {n} wombat"] for n in range(500)]), processing.XLSX)
    assert text.startswith("Sheet\nrow 0 wombat") and len(text) == 50


# --- search's edges ---------------------------------------------------------------------------


def test_a_search_of_no_words_finds_nothing_and_reindexing_nothing_changes_nothing(tenant_a, owner_a):
    upload(tenant_a, owner_a, "sign.txt", b"punctuation")
    with tenant_context(tenant_a):
        before = SearchWord.objects.count()
        search.documents_reindex([])
        assert SearchWord.objects.count() == before
        assert search.search("?! … --") == ([], "")
        assert search.search("") == ([], "")


def test_a_lexicon_word_with_a_quote_is_never_put_into_a_query(tenant_a, owner_a):
    with tenant_context(tenant_a):
        SearchWord.objects.create(word="o'brannagh")
        # The only word like "brannagh" holds a quote: no correction is offered, nothing breaks.
        assert search.search("brannagh") == ([], "")


def test_stored_files_keep_their_pictures_under_the_blob(tenant_a, owner_a, three_pages, blobs_dir):
    _, blob = three_pages
    for kind in ("thumb", "web"):
        assert (blobs_dir / processing.derived_name(tenant_a.schema_name, blob.sha256, kind)).exists()
    assert storage.store().exists(storage.blob_name(tenant_a.schema_name, blob.sha256))
