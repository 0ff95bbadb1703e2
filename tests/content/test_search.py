"""Full-text search over documents: names, tags, metadata and extracted text, ranked, with safe
snippets, filters and typo tolerance; the search page, GET /api/v1/content/search and the command
palette; nothing of one tenant found from another."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import search, selectors, services
from apps.content.models import Document
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import PDF
from .test_processing import found, processed


def doc(tenant, owner, name, text, *, folder=None, tags=(), metadata=None):
    document = services.document_upload(
        tenant=tenant, actor=owner, fileobj=SimpleUploadedFile(name, text.encode()), name=name, folder=folder,
        tags=tags, metadata=metadata,
    )  # fmt: skip
    processed(tenant, document)
    return document


@pytest.fixture
def library(tenant_a, owner_a):
    """A few processed documents in tenant A."""
    reports = services.folder_create(tenant=tenant_a, actor=owner_a, name="Reports")
    inner = services.folder_create(tenant=tenant_a, actor=owner_a, name="2026", parent=reports)
    return {
        "name": doc(tenant_a, owner_a, "heron_survey.txt", "Counting birds on the estuary."),
        "text": doc(tenant_a, owner_a, "estuary.txt", "The heron nests were counted twice.", folder=inner),
        "tag": doc(tenant_a, owner_a, "plan.txt", "Nothing of note.", tags=["Heron"], folder=reports),
        "meta": doc(tenant_a, owner_a, "invoice.txt", "Amount due.", metadata={"customer": "Heronsgate Ltd"}),
        "folders": (reports, inner),
    }


def test_names_tags_metadata_and_text_are_found_and_ranked_name_first(tenant_a, library):
    names = found(tenant_a, "heron")
    assert names[0] == "heron_survey.txt"  # the name weighs most (A)
    assert set(names) == {"heron_survey.txt", "estuary.txt", "plan.txt", "invoice.txt"}  # "heron" is a prefix
    assert names.index("plan.txt") < names.index("estuary.txt")  # a tag (B) above the text (C)
    assert found(tenant_a, "heron nests") == ["estuary.txt"]  # every word must match
    assert found(tenant_a, "survey") == ["heron_survey.txt"]  # a name's separators split its words


def test_snippets_escape_the_text_and_mark_only_the_matched_words(tenant_a, owner_a):
    doc(tenant_a, owner_a, "page.txt", 'Rule: a<b && c>d for the quokka count <3 and "quotes" <i>')
    with tenant_context(tenant_a):
        (hit,), _ = selectors.documents_find(query="quokka", filters=search.Filters())
    # (PostgreSQL's parser drops what looks like a tag, "<b && c>"; what is left is escaped.)
    assert "the <mark>quokka</mark> count &lt;3 and &quot;quotes" in hit.snippet
    assert "<" not in hit.snippet.replace("<mark>", "").replace("</mark>", "") and hit.snippet.count("<mark>") == 1
    assert search.snippet("<mark>x</mark> \ue000y\ue001") == "&lt;mark&gt;x&lt;/mark&gt; <mark>y</mark>"


def test_filters_narrow_by_type_tag_folder_owner_and_date(tenant_a, owner_a, library):
    reports, inner = library["folders"]
    services.document_upload(
        tenant=tenant_a, actor=owner_a, fileobj=SimpleUploadedFile("heron.pdf", PDF), name="heron.pdf"
    )
    assert found(tenant_a, "heron", type="pdf") == ["heron.pdf"]
    assert found(tenant_a, "heron", tag="HERON") == ["plan.txt"]
    assert sorted(found(tenant_a, "heron", folder_id=reports.pk)) == ["estuary.txt", "plan.txt"]  # and below
    assert found(tenant_a, "heron", folder_id=inner.pk) == ["estuary.txt"]
    other = MembershipFactory(tenant=tenant_a, role="member").user
    doc(tenant_a, other, "heron_by_other.txt", "x")
    assert found(tenant_a, "heron", owner_id=other.pk) == ["heron_by_other.txt"]
    today = date.today()
    assert len(found(tenant_a, "heron", changed_from=today, changed_to=today)) == 6
    assert found(tenant_a, "heron", changed_to=today - timedelta(days=1)) == []


def test_pdf_bytes_are_recognised_for_the_type_filter(tenant_a, owner_a):
    from .files import pdf_with_text

    document = services.document_upload(
        tenant=tenant_a, actor=owner_a, fileobj=SimpleUploadedFile("r.pdf", pdf_with_text("ibis")), name="r.pdf"
    )
    processed(tenant_a, document)
    assert found(tenant_a, "ibis", type="pdf") == ["r.pdf"]
    assert found(tenant_a, "ibis", type="picture") == []


def test_typos_are_forgiven_when_nothing_matches_as_typed(tenant_a, library):
    with tenant_context(tenant_a):
        hits, corrected = selectors.documents_find(query="esturay", filters=search.Filters())
    assert corrected == "estuary" and {h.name for h in hits} == {"heron_survey.txt", "estuary.txt"}
    with tenant_context(tenant_a):
        assert selectors.documents_find(query="zzqxv", filters=search.Filters()) == ([], "")


def test_trashed_documents_and_folders_are_not_found(tenant_a, owner_a, library):
    services.document_trash(tenant=tenant_a, actor=owner_a, document=library["name"])
    services.folder_trash(tenant=tenant_a, actor=owner_a, folder=library["folders"][0])
    assert found(tenant_a, "heron") == ["invoice.txt"]


def test_renaming_and_tagging_reindex_at_once(tenant_a, owner_a):
    document = doc(tenant_a, owner_a, "a.txt", "plain words")
    services.document_update(tenant=tenant_a, actor=owner_a, document=document, name="flamingo.txt", tags=["pink"])
    assert found(tenant_a, "flamingo pink") == ["flamingo.txt"]


def test_the_search_page_shows_results_with_snippets_and_filters(tenant_a, owner_a, library):
    client = client_for(tenant_a, owner_a)
    page = client.get("/content/search/", {"q": "nests"}).content.decode()
    assert "estuary.txt" in page and "<mark>nests</mark>" in page
    assert "heron_survey.txt" not in page
    assert 'name="type"' in page and 'name="folder"' in page and "Reports / 2026" in page
    corrected = client.get("/content/search/", {"q": "esturay"}).content.decode()
    assert "showing documents with “estuary”" in corrected
    bad = client.get("/content/search/", {"q": "heron", "changed_from": "2026-05-02", "changed_to": "2026-05-01"})
    assert bad.status_code == 400 and "The end of the range comes before its start." in bad.content.decode()
    assert client.get("/content/search/").status_code == 200
    assert client_for(tenant_a).get("/content/search/").status_code == 302  # signed out: to the log-in


def test_the_api_searches_with_filters_and_refuses_bad_ones_naming_the_field(tenant_a, library):
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["content:read"])[1])
    body = api.get("/api/v1/content/search", {"q": "heron", "tag": "heron"}).json()
    assert [r["name"] for r in body["results"]] == ["plan.txt"] and body["corrected"] == ""
    assert body["results"][0]["id"] == library["tag"].pk
    for params, field in [
        ({"q": "x", "type": "spaceship"}, "type"),
        ({"q": "x", "folder": "999999"}, "folder"),
        ({"q": "x", "changed_from": "yesterday"}, "changed_from"),
        ({"q": "x", "changed_from": "2026-05-02", "changed_to": "2026-05-01"}, "changed_to"),
        ({}, "q"),
    ]:
        response = api.get("/api/v1/content/search", params)
        assert response.status_code in (400, 422), params
        assert response["Content-Type"] == "application/problem+json" and field in str(response.json()), params


def test_the_command_palette_uses_the_full_text_search(tenant_a, owner_a, library):
    with tenant_context(tenant_a):
        results = selectors.document_search(query="nests", tenant=tenant_a, user=owner_a, limit=5)
    assert [(r.title, r.url) for r in results] == [("estuary.txt", f"/content/documents/{library['text'].pk}/")]


def test_tenant_b_finds_nothing_of_tenant_a(tenant_a, tenant_b, owner_b, library):
    reports, _ = library["folders"]
    assert found(tenant_b, "heron") == [] and found(tenant_b, "esturay") == []
    page = client_for(tenant_b, owner_b).get("/content/search/", {"q": "heron"}).content.decode()
    assert "estuary.txt" not in page and "Reports / 2026" not in page
    api_b = api_client(tenant_b, make_key(tenant_b, scope_list=["content:read"])[1])
    assert api_b.get("/api/v1/content/search", {"q": "heron"}).json()["results"] == []
    guessed = api_b.get("/api/v1/content/search", {"q": "heron", "folder": reports.pk})
    assert guessed.status_code == 422 and "No such folder." in str(guessed.json())
    picture = f"/content/documents/{library['text'].pk}/versions/1/picture/thumb.webp"
    assert client_for(tenant_b, owner_b).get(picture).status_code == 404
    with tenant_context(tenant_a):
        assert Document.objects.filter(pk=library["text"].pk).exists()
