"""Content's pages: browse, upload, versions, check-out, trash; messages in words; isolation."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import services
from apps.content.models import Document, Folder
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import text_file


def test_members_upload_into_folders_and_see_them_listed(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    assert client.post("/content/new-folder/", {"name": "Invoices"}).status_code == 302
    with tenant_context(tenant_a):
        invoices = Folder.objects.get(name="Invoices")
    response = client.post(
        f"/content/folders/{invoices.pk}/upload/", {"file": SimpleUploadedFile("march.txt", b"42 EUR")}
    )
    assert response.status_code == 302 and response["Location"] == f"/content/folders/{invoices.pk}/"
    page = client.get(f"/content/folders/{invoices.pk}/").content.decode()
    assert "march.txt" in page and "Text" in page  # the type in words, not text/plain
    top = client.get("/content/").content.decode()
    assert "Invoices" in top and 'href="/content/"' in top  # the folder and the navigation item
    assert "Storage:" in top


def test_a_refused_upload_re_renders_the_form_with_the_reason(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/content/upload/", {"file": SimpleUploadedFile("empty.txt", b"")})
    assert response.status_code == 400
    assert "The file is empty." in response.content.decode()


def test_the_document_page_shows_history_and_saves_versions(tenant_a, owner_a):
    document = services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("v1"), name="plan.txt")
    client = client_for(tenant_a, owner_a)
    response = client.post(
        f"/content/documents/{document.pk}/versions/new/", {"file": text_file("v2"), "note": "new goals"}
    )
    assert response.status_code == 302
    page = client.get(f"/content/documents/{document.pk}/").content.decode()
    assert "new goals" in page and "Restore" in page
    download = client.get(f"/content/documents/{document.pk}/versions/1/download/")
    assert b"".join(download.streaming_content) == b"v1"
    assert client.post(f"/content/documents/{document.pk}/versions/1/restore/").status_code == 302
    with tenant_context(tenant_a):
        assert Document.objects.get(pk=document.pk).current.number == 3


def test_the_second_editor_is_told_who_has_the_document_and_nothing_is_lost(tenant_a, owner_a):
    document = services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("v1"), name="plan.txt")
    jane = MembershipFactory(tenant=tenant_a, role="member", user__full_name="Jane Doe").user
    assert client_for(tenant_a, jane).post(f"/content/documents/{document.pk}/lock/").status_code == 302
    bob = MembershipFactory(tenant=tenant_a, role="member").user
    response = client_for(tenant_a, bob).post(
        f"/content/documents/{document.pk}/versions/new/", {"file": text_file("v2")}
    )
    assert response.status_code == 400
    assert "Jane Doe checked “plan.txt” out" in response.content.decode()
    with tenant_context(tenant_a):
        assert Document.objects.get(pk=document.pk).versions.count() == 1


def test_trash_asks_first_and_only_admins_delete_for_good(tenant_a, owner_a):
    document = services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("bye"), name="old.txt")
    client = client_for(tenant_a, owner_a)
    page = client.get(f"/content/documents/{document.pk}/").content.decode()
    assert 'data-confirm="Move “old.txt” to the trash?"' in page
    assert client.post(f"/content/documents/{document.pk}/trash/").status_code == 302
    trash = client.get("/content/trash/").content.decode()
    assert "old.txt" in trash and "Delete for good" in trash
    member = MembershipFactory(tenant=tenant_a, role="member").user
    assert "Delete for good" not in client_for(tenant_a, member).get("/content/trash/").content.decode()
    assert client_for(tenant_a, member).post(f"/content/trash/{document.pk}/delete/").status_code == 403
    assert client.post(f"/content/trash/{document.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not Document.objects.filter(pk=document.pk).exists()


def test_a_trashed_folder_is_on_the_trash_page_to_restore_or_delete(tenant_a, owner_a, tenant_b, owner_b):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Archive 2019")
    inside = services.document_upload(
        tenant=tenant_a, actor=owner_a, fileobj=text_file("old"), name="ledger.txt", folder=folder
    )
    client = client_for(tenant_a, owner_a)
    assert client.post(f"/content/folders/{folder.pk}/trash/").status_code == 302
    trash = client.get("/content/trash/").content.decode()
    assert "Archive 2019" in trash and "ledger.txt" not in trash  # the folder, not what it holds
    assert 'data-confirm="Delete the folder “Archive 2019”, every folder and document in it' in trash
    other = client_for(tenant_b, owner_b)  # another organisation's admin: no such folder there
    assert "Archive 2019" not in other.get("/content/trash/").content.decode()
    for action in ("restore", "delete"):
        assert other.post(f"/content/trash/folders/{folder.pk}/{action}/").status_code == 404
    viewer = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="viewer").user)
    assert viewer.post(f"/content/trash/folders/{folder.pk}/restore/").status_code == 403
    response = client.post(f"/content/trash/folders/{folder.pk}/restore/", follow=True)
    assert "“Archive 2019” is back, with what it holds." in response.content.decode()
    assert "ledger.txt" in client.get(f"/content/folders/{folder.pk}/").content.decode()

    services.folder_trash(tenant=tenant_a, actor=owner_a, folder=folder)
    services.folder_create(tenant=tenant_a, actor=owner_a, name="Archive 2019")
    clash = client.post(f"/content/trash/folders/{folder.pk}/restore/", follow=True).content.decode()
    assert "A folder called “Archive 2019” is there now: rename one of them first." in clash
    member = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="member").user)
    assert member.post(f"/content/trash/folders/{folder.pk}/delete/").status_code == 403
    assert client.post(f"/content/trash/folders/{folder.pk}/delete/").status_code == 302
    with tenant_context(tenant_a):
        assert not Folder.objects.filter(pk=folder.pk).exists()
        assert not Document.objects.filter(pk=inside.pk).exists()


def test_viewers_browse_and_download_but_cannot_upload(tenant_a, owner_a):
    document = services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("read me"), name="a.txt")
    viewer = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="viewer").user)
    assert "Upload files" not in viewer.get("/content/").content.decode()
    assert viewer.get(f"/content/documents/{document.pk}/download/").status_code == 200
    assert viewer.post("/content/upload/", {"file": text_file("x")}).status_code == 403


def test_tenant_b_cannot_reach_tenant_as_files(tenant_a, owner_a, tenant_b, owner_b):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Secret")
    document = services.document_upload(
        tenant=tenant_a, actor=owner_a, fileobj=text_file("a only"), name="a.txt", folder=folder
    )
    client = client_for(tenant_b, owner_b)
    for url in (
        f"/content/folders/{folder.pk}/", f"/content/documents/{document.pk}/",
        f"/content/documents/{document.pk}/download/", f"/content/documents/{document.pk}/versions/1/download/",
    ):  # fmt: skip
        assert client.get(url).status_code == 404, url
    for url in (f"/content/documents/{document.pk}/lock/", f"/content/documents/{document.pk}/trash/",
                f"/content/folders/{folder.pk}/upload/"):  # fmt: skip
        assert client.post(url, {"file": text_file("b")}).status_code == 404, url
    # A's member without a membership in B gets nothing either.
    assert client_for(tenant_b, owner_a).get(f"/content/documents/{document.pk}/").status_code in (302, 403, 404)
    with tenant_context(tenant_a):
        assert Document.objects.get(pk=document.pk).versions.count() == 1
