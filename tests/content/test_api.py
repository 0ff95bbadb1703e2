"""/api/v1/content/: uploads, versions, downloads with ranges, check-out, trash; errors as
problem+json naming the field; nothing of one tenant reachable from another."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content.models import Document, Folder
from apps.events.models import Event
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import PDF, text_file


@pytest.fixture
def api_a(tenant_a):
    return api_client(tenant_a, make_key(tenant_a, scope_list=["content:write"])[1])


def post_file(client, url, content: bytes, name="notes.txt", **data):
    return client.post(url, {"file": SimpleUploadedFile(name, content), **data})


def test_upload_list_version_and_download_a_document(api_a):
    folder = api_a.post("/api/v1/content/folders/", {"name": "Reports"}, content_type="application/json").json()
    created = post_file(api_a, "/api/v1/content/documents/", b"version one", folder=folder["id"], tags=["q3"])
    assert created.status_code == 201, created.content
    document = created.json()
    assert (document["name"], document["folder"], document["version"], document["mime_type"]) == (
        "notes.txt",
        folder["id"],
        1,
        "text/plain",
    )
    assert document["tags"] == ["q3"]
    listed = api_a.get("/api/v1/content/documents/", {"folder": folder["id"]}).json()["results"]
    assert [d["id"] for d in listed] == [document["id"]]
    top = api_a.get("/api/v1/content/documents/").json()["results"]
    assert document["id"] not in [d["id"] for d in top]  # the top folder's list is of its own
    assert [d["id"] for d in api_a.get("/api/v1/content/documents/", {"tag": "Q3"}).json()["results"]] == [
        document["id"]
    ]

    url = f"/api/v1/content/documents/{document['id']}"
    second = post_file(api_a, f"{url}/versions/", b"version two", note="fixed typos")
    assert second.status_code == 201 and second.json()["number"] == 2
    same = post_file(api_a, f"{url}/versions/", b"version two")
    assert same.status_code == 200 and same.json()["number"] == 2  # the same bytes: no new version
    assert [v["number"] for v in api_a.get(f"{url}/versions/").json()] == [2, 1]

    download = api_a.get(f"{url}/download/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"version two"
    assert download["Content-Disposition"] == 'attachment; filename="notes.txt"'
    old = api_a.get(f"{url}/versions/1/download/")
    assert b"".join(old.streaming_content) == b"version one"
    restored = api_a.post(f"{url}/versions/1/restore/")
    assert restored.status_code == 201 and restored.json()["number"] == 3


def test_downloads_serve_byte_ranges_and_etags(api_a):
    document = post_file(api_a, "/api/v1/content/documents/", b"0123456789").json()
    url = f"/api/v1/content/documents/{document['id']}/download/"
    part = api_a.get(url, HTTP_RANGE="bytes=2-5")
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"2345"
    assert part["Content-Range"] == "bytes 2-5/10" and part["Content-Length"] == "4"
    tail = api_a.get(url, HTTP_RANGE="bytes=-3")
    assert b"".join(tail.streaming_content) == b"789"
    assert api_a.get(url, HTTP_RANGE="bytes=20-").status_code == 416
    etag = api_a.get(url)["ETag"]
    assert api_a.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_html_and_svg_are_never_shown_on_the_tenants_origin(api_a):
    page = post_file(
        api_a, "/api/v1/content/documents/", b"<html><script>alert(1)</script></html>", name="x.html"
    ).json()
    response = api_a.get(f"/api/v1/content/documents/{page['id']}/download/", {"inline": "1"})
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    pdf = post_file(api_a, "/api/v1/content/documents/", PDF, name="x.pdf").json()
    shown = api_a.get(f"/api/v1/content/documents/{pdf['id']}/download/", {"inline": "1"})
    assert shown["Content-Type"] == "application/pdf" and shown["Content-Disposition"].startswith("inline;")


def test_any_file_name_gets_a_safe_content_disposition(api_a):
    name = 'Résumé "final"; v2.txt'
    document = api_a.post("/api/v1/content/documents/", {"file": text_file("cv"), "name": name}).json()
    header = api_a.get(f"/api/v1/content/documents/{document['id']}/download/")["Content-Disposition"]
    assert "filename*=utf-8''R%C3%A9sum%C3%A9%20%22final%22%3B%20v2.txt" in header
    assert "\n" not in header and header.count(";") == 1


def test_bad_uploads_are_problems_naming_the_field(api_a):
    empty = post_file(api_a, "/api/v1/content/documents/", b"")
    assert empty.status_code == 422 and empty["Content-Type"] == "application/problem+json"
    assert "The file is empty." in str(empty.json())
    lying = post_file(api_a, "/api/v1/content/documents/", b"MZ\x90\x00" + b"\x00" * 100, name="invoice.pdf")
    assert lying.status_code == 422 and "The name ends in .pdf" in str(lying.json())
    missing = api_a.post("/api/v1/content/documents/", {"name": "nothing.txt"})
    assert missing.status_code in (400, 422) and "file" in str(missing.json())
    nowhere = post_file(api_a, "/api/v1/content/documents/", b"x", folder=999999)
    assert nowhere.status_code == 422 and "No such folder." in str(nowhere.json())


def test_a_second_editor_gets_409_while_the_document_is_checked_out(tenant_a, api_a):
    document = post_file(api_a, "/api/v1/content/documents/", b"v1").json()
    jane = MembershipFactory(tenant=tenant_a, role="admin", user__full_name="Jane Doe").user
    jane_api = api_client(tenant_a, make_key(tenant_a, user=jane, scope_list=["content:write"])[1])
    url = f"/api/v1/content/documents/{document['id']}"
    assert jane_api.post(f"{url}/lock/").json()["locked_by"] == jane.email
    refused = post_file(api_a, f"{url}/versions/", b"mine")
    assert refused.status_code == 409 and "Jane Doe checked “notes.txt” out" in refused.json()["detail"]
    assert api_a.post(f"{url}/unlock/").status_code == 200  # the owner (an admin) may end it
    assert post_file(api_a, f"{url}/versions/", b"mine").status_code == 201


def test_trash_restore_and_purge_through_the_api(tenant_a, api_a):
    document = post_file(api_a, "/api/v1/content/documents/", b"bye").json()
    assert api_a.delete(f"/api/v1/content/documents/{document['id']}/").status_code == 204
    assert api_a.get(f"/api/v1/content/documents/{document['id']}/").status_code == 404
    assert [d["id"] for d in api_a.get("/api/v1/content/trash/").json()["results"]] == [document["id"]]
    assert api_a.post(f"/api/v1/content/trash/{document['id']}/restore/").status_code == 200
    api_a.delete(f"/api/v1/content/documents/{document['id']}/")
    member = MembershipFactory(tenant=tenant_a, role="member").user
    member_api = client_for(tenant_a, member)  # the dashboards' own calls: the session
    assert member_api.delete(f"/api/v1/content/trash/{document['id']}/").status_code == 403  # admins only
    assert api_a.delete(f"/api/v1/content/trash/{document['id']}/").status_code == 204
    assert api_a.get("/api/v1/content/trash/").json()["results"] == []


def test_a_trashed_folder_comes_back_or_goes_with_all_it_holds(tenant_a, owner_a, api_a):
    def folder_create(**data):
        return api_a.post("/api/v1/content/folders/", data, content_type="application/json").json()

    top = folder_create(name="Old projects")
    inner = folder_create(name="2019", parent=top["id"])
    document = post_file(api_a, "/api/v1/content/documents/", b"kept", folder=inner["id"]).json()
    assert api_a.delete(f"/api/v1/content/folders/{top['id']}/").status_code == 204
    # The trash lists the folder, not the folder inside it nor its document.
    assert [f["id"] for f in api_a.get("/api/v1/content/trash/folders/").json()["results"]] == [top["id"]]
    assert api_a.get("/api/v1/content/trash/").json()["results"] == []
    assert api_a.post(f"/api/v1/content/trash/folders/{inner['id']}/restore/").status_code == 404

    viewer = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="viewer").user)
    assert viewer.post(f"/api/v1/content/trash/folders/{top['id']}/restore/").status_code == 403
    restored = api_a.post(f"/api/v1/content/trash/folders/{top['id']}/restore/")
    assert restored.status_code == 200 and restored.json()["name"] == "Old projects"
    assert api_a.get(f"/api/v1/content/documents/{document['id']}/").status_code == 200

    # A folder of the same name made meanwhile: a 422 naming the field, nothing changed.
    api_a.delete(f"/api/v1/content/folders/{top['id']}/")
    folder_create(name="Old projects")
    clash = api_a.post(f"/api/v1/content/trash/folders/{top['id']}/restore/")
    assert clash.status_code == 422 and clash.json()["errors"][0]["field"] == "name"

    member = client_for(tenant_a, MembershipFactory(tenant=tenant_a, role="member").user)
    assert member.delete(f"/api/v1/content/trash/folders/{top['id']}/").status_code == 403  # admins only
    assert api_a.delete(f"/api/v1/content/trash/folders/{top['id']}/").status_code == 204
    assert api_a.get("/api/v1/content/trash/folders/").json()["results"] == []
    with tenant_context(tenant_a):
        assert not Folder.objects.filter(pk__in=[top["id"], inner["id"]]).exists()
        assert not Document.objects.filter(pk=document["id"]).exists()
        assert Event.objects.filter(type="content.folder_purged", payload__folder_id=top["id"]).exists()


def test_storage_use_is_reported(api_a):
    import secrets

    before = api_a.get("/api/v1/content/storage").json()["used_bytes"]  # what other tests committed
    post_file(api_a, "/api/v1/content/documents/", secrets.token_hex(8).encode())
    usage = api_a.get("/api/v1/content/storage").json()
    assert usage["used_bytes"] == before + 16 and usage["quota_bytes"] > usage["max_file_bytes"] > 0


def test_read_keys_read_and_viewers_cannot_write(tenant_a, api_a):
    document = post_file(api_a, "/api/v1/content/documents/", b"x").json()
    reader = api_client(tenant_a, make_key(tenant_a, scope_list=["content:read"])[1])
    assert reader.get(f"/api/v1/content/documents/{document['id']}/").status_code == 200
    assert post_file(reader, "/api/v1/content/documents/", b"y", name="y.txt").status_code == 403
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    viewer_api = client_for(tenant_a, viewer)
    assert viewer_api.get(f"/api/v1/content/documents/{document['id']}/download/").status_code == 200
    assert post_file(viewer_api, "/api/v1/content/documents/", b"y", name="y.txt").status_code == 403


def test_nothing_of_tenant_a_is_reachable_from_tenant_b(tenant_a, tenant_b, api_a):
    folder = api_a.post("/api/v1/content/folders/", {"name": "Secret"}, content_type="application/json").json()
    document = post_file(api_a, "/api/v1/content/documents/", b"a's bytes", folder=folder["id"]).json()
    api_b = api_client(tenant_b, make_key(tenant_b, scope_list=["content:write"])[1])
    base = f"/api/v1/content/documents/{document['id']}"
    for url in (f"{base}/", f"{base}/download/", f"{base}/versions/", f"{base}/versions/1/download/",
                f"/api/v1/content/folders/{folder['id']}/"):  # fmt: skip
        assert api_b.get(url).status_code == 404, url
    assert post_file(api_b, f"{base}/versions/", b"b's bytes").status_code == 404
    assert api_b.post(f"{base}/lock/").status_code == 404
    assert api_b.delete(f"{base}/").status_code == 404
    assert post_file(api_b, "/api/v1/content/documents/", b"x", folder=folder["id"]).status_code == 422
    assert api_b.get("/api/v1/content/documents/", {"q": "notes"}).json()["results"] == []
    assert api_b.get("/api/v1/content/storage").json()["used_bytes"] == 0
    # The same bytes uploaded in B are B's own blob (no cross-tenant deduplication to probe).
    assert post_file(api_b, "/api/v1/content/documents/", b"a's bytes").json()["sha256"] == document["sha256"]
    assert api_b.get("/api/v1/content/storage").json()["used_bytes"] == len(b"a's bytes")
