"""Diffs between text versions (escaped; a message for binary files), restore only when needed,
tags and typed metadata fields on the page, the tag filter, the personal-data map."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import comments, services, sharing
from apps.content.models import Comment, Document, ShareLink
from apps.core.registry import registry
from tests.conftest import client_for

from .conftest import PDF, text_file


def _versions(tenant, owner, *texts, name="notes.md"):
    document = services.document_upload(tenant=tenant, actor=owner, fileobj=text_file(texts[0], name), name=name)
    for text in texts[1:]:
        services.document_version_add(tenant=tenant, actor=owner, document=document, fileobj=text_file(text, name))
    return document


def test_the_diff_shows_changed_lines_side_by_side_and_unified_escaped(tenant_a, owner_a):
    document = _versions(tenant_a, owner_a, "a\nb\nc\n", "a\n<b>bold</b>\nc\nd\n")
    client = client_for(tenant_a, owner_a)
    split = client.get(f"/content/documents/{document.pk}/diff/?old=1&new=2").content.decode()
    assert "2 lines added" in split and "1 removed" in split
    assert "&lt;b&gt;bold&lt;/b&gt;" in split and "<b>bold</b>" not in split
    assert 'class="diff-changed"' in split
    unified = client.get(f"/content/documents/{document.pk}/diff/?old=1&new=2&view=unified").content.decode()
    assert 'class="diff-removed"' in unified and 'class="diff-added"' in unified
    assert "Compare versions" in client.get(f"/content/documents/{document.pk}/").content.decode()


def test_binary_files_get_a_message_instead_of_a_diff(tenant_a, owner_a):
    document = services.document_upload(
        tenant=tenant_a, actor=owner_a, fileobj=SimpleUploadedFile("a.pdf", PDF), name="a.pdf"
    )
    services.document_version_add(
        tenant=tenant_a, actor=owner_a, document=document, fileobj=SimpleUploadedFile("a.pdf", PDF + b"%x\n")
    )
    page = client_for(tenant_a, owner_a).get(f"/content/documents/{document.pk}/diff/").content.decode()
    assert "is not a text file" in page


def test_the_diff_of_another_tenants_document_is_a_404(tenant_a, tenant_b, owner_a, owner_b):
    document = _versions(tenant_a, owner_a, "one", "two")
    assert client_for(tenant_b, owner_b).get(f"/content/documents/{document.pk}/diff/").status_code == 404
    assert client_for(tenant_a, owner_a).get(f"/content/documents/{document.pk}/diff/?old=1&new=9").status_code == 404


def test_restoring_a_version_with_the_current_bytes_adds_nothing(tenant_a, owner_a):
    document = _versions(tenant_a, owner_a, "one", "two", "one")
    client = client_for(tenant_a, owner_a)
    response = client.post(f"/content/documents/{document.pk}/versions/1/restore/", follow=True)
    assert "same bytes as the current version" in response.content.decode()
    client.post(f"/content/documents/{document.pk}/versions/2/restore/")
    with tenant_context(tenant_a):
        assert Document.objects.get(pk=document.pk).current.number == 4


def test_tags_and_typed_fields_are_edited_on_the_page_and_the_folder_filters_by_tag(tenant_a, owner_a):
    document = _versions(tenant_a, owner_a, "x", name="invoice.txt")
    other = _versions(tenant_a, owner_a, "y", name="letter.txt")
    client = client_for(tenant_a, owner_a)
    fields = {
        "tags": "Finance, 2026",
        **{"key_0": "amount", "type_0": "number", "value_0": "120,50"},
        **{"key_1": "due", "type_1": "date", "value_1": "2026-03-01"},
        **{"key_2": "", "type_2": "text", "value_2": ""},
    }
    assert client.post(f"/content/documents/{document.pk}/details/", fields).status_code == 302
    with tenant_context(tenant_a):
        saved = Document.objects.get(pk=document.pk)
        assert saved.metadata == {"amount": 120.5, "due": "2026-03-01"}
        assert saved.metadata_types == {"amount": "number", "due": "date"}
        assert sorted(t.name for t in saved.tags.all()) == ["2026", "Finance"]
    bad = client.post(f"/content/documents/{document.pk}/details/", {**fields, "value_1": "next week"})
    assert bad.status_code == 400 and "“due” is a date (YYYY-MM-DD): “next week” is not one." in bad.content.decode()
    listed = client.get("/content/?tag=finance").content.decode()
    assert "invoice.txt" in listed and other.name not in listed
    assert "tagged “finance”" in listed


def test_viewers_and_tenant_b_cannot_change_details(tenant_a, tenant_b, owner_a, owner_b):
    from tests.factories import MembershipFactory

    document = _versions(tenant_a, owner_a, "x", name="a.txt")
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    assert (
        client_for(tenant_a, viewer).post(f"/content/documents/{document.pk}/details/", {"tags": "x"}).status_code
        == 403
    )
    assert (
        client_for(tenant_b, owner_b).post(f"/content/documents/{document.pk}/details/", {"tags": "x"}).status_code
        == 404
    )


def test_personal_data_is_exported_and_erased(tenant_a, owner_a):
    from datetime import timedelta

    from django.utils import timezone

    from tests.factories import MembershipFactory

    bob = MembershipFactory(tenant=tenant_a, role="member").user
    document = _versions(tenant_a, bob, "x", name="bob.txt")
    comment = comments.comment_add(tenant=tenant_a, actor=bob, body="Bob's remark", document=document)
    link, _ = sharing.share_link_create(
        tenant=tenant_a, actor=bob, document=document, expires_at=timezone.now() + timedelta(days=1)
    )
    exporter, eraser = registry["data_exporters"]["content"], registry["data_erasers"]["content"]
    with tenant_context(tenant_a):
        data = exporter.export(user=bob)
        assert data["documents_uploaded"][0]["document__name"] == "bob.txt"
        assert data["comments"][0]["body"] == "Bob's remark"
        assert data["links_created"][0]["id"] == link.pk
        assert eraser.erase(user=bob) > 0
        assert Comment.objects.get(pk=comment.pk).body == "(comment removed)"
        assert Comment.objects.get(pk=comment.pk).author is None
        assert ShareLink.objects.get(pk=link.pk).revoked_at is not None
        assert Document.objects.get(pk=document.pk).created_by is None
