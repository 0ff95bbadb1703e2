"""Every content page and API action that changes a folder asks one question (lookups.may_edit:
the tenant role or a share of the folder): trash, restore from the trash, copy and processing
again included. An editor share opens them to a tenant viewer in that folder; a viewer share or
another folder does not."""

import pytest
from django_tenants.utils import tenant_context

from apps.content import services, sharing
from apps.content.models import Document
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import text_file

JSON = "application/json"


@pytest.fixture
def setup(tenant_a, owner_a):
    shared = services.folder_create(tenant=tenant_a, actor=owner_a, name="Design")
    inner = services.folder_create(tenant=tenant_a, actor=owner_a, name="Drafts", parent=shared)
    viewed = services.folder_create(tenant=tenant_a, actor=owner_a, name="Finance")
    editor = MembershipFactory(tenant=tenant_a, role="viewer").user
    watcher = MembershipFactory(tenant=tenant_a, role="viewer").user
    sharing.folder_share(tenant=tenant_a, actor=owner_a, folder=shared, user=editor, role="editor")
    sharing.folder_share(tenant=tenant_a, actor=owner_a, folder=shared, user=watcher, role="viewer")

    def upload(name, folder):
        return services.document_upload(
            tenant=tenant_a, actor=owner_a, fileobj=text_file(name), name=name, folder=folder
        )

    return {
        "shared": shared, "inner": inner, "viewed": viewed, "editor": editor, "watcher": watcher,
        "upload": upload,
    }  # fmt: skip


def _trashed(tenant, pk) -> bool:
    with tenant_context(tenant):
        return Document.objects.get(pk=pk).trashed_at is not None


def test_an_editor_share_trashes_and_restores_on_the_pages_a_viewer_share_cannot(tenant_a, setup):
    plan = setup["upload"]("plan.txt", setup["inner"])
    editor, watcher = client_for(tenant_a, setup["editor"]), client_for(tenant_a, setup["watcher"])

    assert watcher.post(f"/content/documents/{plan.pk}/trash/").status_code == 403
    assert not _trashed(tenant_a, plan.pk)
    assert editor.post(f"/content/documents/{plan.pk}/trash/").status_code == 302
    assert _trashed(tenant_a, plan.pk)

    # The trash page offers Restore to whoever may restore the row, and only to them.
    restore = f"/content/trash/{plan.pk}/restore/"
    assert restore in editor.get("/content/trash/").content.decode()
    assert restore not in watcher.get("/content/trash/").content.decode()
    assert watcher.post(restore).status_code == 403
    assert _trashed(tenant_a, plan.pk)
    assert editor.post(restore).status_code == 302
    assert not _trashed(tenant_a, plan.pk)
    # Deleting for good stays the admins'.
    editor.post(f"/content/documents/{plan.pk}/trash/")
    assert editor.post(f"/content/trash/{plan.pk}/delete/").status_code == 403


def test_an_editor_share_does_not_reach_documents_outside_its_folder(tenant_a, setup):
    ledger = setup["upload"]("ledger.txt", setup["viewed"])
    top = setup["upload"]("top.txt", None)
    editor = client_for(tenant_a, setup["editor"])
    for document in (ledger, top):
        assert editor.post(f"/content/documents/{document.pk}/trash/").status_code == 403
        assert editor.post(f"/content/documents/{document.pk}/process/").status_code == 403
    with tenant_context(tenant_a):
        services.document_trash(tenant=tenant_a, actor=None, document=Document.objects.get(pk=ledger.pk))
    assert editor.post(f"/content/trash/{ledger.pk}/restore/").status_code == 403
    assert client_for(tenant_a, setup["editor"]).post(f"/api/v1/content/trash/{ledger.pk}/restore/").status_code == 403
    assert _trashed(tenant_a, ledger.pk)


def test_the_trash_api_restores_for_an_editor_share_not_for_a_viewer_share(tenant_a, setup):
    plan = setup["upload"]("plan.txt", setup["shared"])
    editor, watcher = client_for(tenant_a, setup["editor"]), client_for(tenant_a, setup["watcher"])
    assert watcher.delete(f"/api/v1/content/documents/{plan.pk}/").status_code == 403
    assert editor.delete(f"/api/v1/content/documents/{plan.pk}/").status_code == 204
    refused = watcher.post(f"/api/v1/content/trash/{plan.pk}/restore/")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert "not change them" in refused.json()["detail"]
    restored = editor.post(f"/api/v1/content/trash/{plan.pk}/restore/")
    assert restored.status_code == 200 and restored.json()["id"] == plan.pk
    assert not _trashed(tenant_a, plan.pk)
    editor.delete(f"/api/v1/content/documents/{plan.pk}/")
    assert editor.delete(f"/api/v1/content/trash/{plan.pk}/").status_code == 403  # purge: admins


def test_copy_needs_the_editors_of_where_the_copy_goes(tenant_a, setup):
    plan = setup["upload"]("plan.txt", setup["shared"])
    ledger = setup["upload"]("ledger.txt", setup["viewed"])
    editor, watcher = client_for(tenant_a, setup["editor"]), client_for(tenant_a, setup["watcher"])

    def copy(client, document, **data):
        return client.post(f"/api/v1/content/documents/{document.pk}/copy/", data, content_type=JSON)

    inside = copy(editor, plan, name="plan copy.txt")
    assert inside.status_code == 201 and inside.json()["folder"] == setup["shared"].pk
    # From a folder it may only read into one it edits: allowed; out of it into one it reads: not.
    into = copy(editor, ledger, folder=setup["inner"].pk)
    assert into.status_code == 201 and into.json()["folder"] == setup["inner"].pk
    assert copy(editor, plan, folder=setup["viewed"].pk).status_code == 403
    assert copy(editor, plan, folder=None).status_code == 403  # the top: the tenant role (viewer)
    assert copy(watcher, plan, name="mine.txt").status_code == 403
    with tenant_context(tenant_a):  # nothing made by the refused copies (other tests may have committed files)
        made = Document.objects.exclude(pk__lt=plan.pk).values_list("name", flat=True)
        assert sorted(made) == ["ledger.txt", "ledger.txt", "plan copy.txt", "plan.txt"]


def test_processing_again_follows_the_share(tenant_a, setup):
    plan = setup["upload"]("plan.txt", setup["shared"])
    with tenant_context(tenant_a):
        blob = Document.objects.get(pk=plan.pk).current.blob
        blob.status = blob.Status.FAILED
        blob.save(update_fields=["status"])
    editor, watcher = client_for(tenant_a, setup["editor"]), client_for(tenant_a, setup["watcher"])
    assert watcher.post(f"/content/documents/{plan.pk}/process/").status_code == 403
    assert watcher.post(f"/api/v1/content/documents/{plan.pk}/process/").status_code == 403
    assert editor.post(f"/content/documents/{plan.pk}/process/").status_code == 302
    with tenant_context(tenant_a):
        blob.refresh_from_db()
        assert blob.status != blob.Status.FAILED


def test_tenant_b_cannot_restore_or_copy_a_documents(tenant_a, tenant_b, owner_a, owner_b, setup):
    plan = setup["upload"]("plan.txt", setup["shared"])
    with tenant_context(tenant_a):
        services.document_trash(tenant=tenant_a, actor=owner_a, document=Document.objects.get(pk=plan.pk))
    b = client_for(tenant_b, owner_b)
    assert b.post(f"/content/trash/{plan.pk}/restore/").status_code == 404
    assert b.post(f"/api/v1/content/trash/{plan.pk}/restore/").status_code == 404
    assert b.post(f"/api/v1/content/documents/{plan.pk}/copy/", {}, content_type=JSON).status_code == 404
    assert _trashed(tenant_a, plan.pk)
