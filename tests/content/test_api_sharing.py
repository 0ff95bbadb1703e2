"""/api/v1/content/: links, folder shares, comments, diffs and typed metadata; problem+json naming
the field; tenant isolation; shares give API writes too."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tenants.utils import tenant_context

from apps.content import services, sharing
from apps.content.models import ShareLink
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import text_file

JSON = "application/json"


@pytest.fixture
def api_a(tenant_a):
    return api_client(tenant_a, make_key(tenant_a, scope_list=["content:write"])[1])


@pytest.fixture
def plan(tenant_a, owner_a):
    document = services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("a\nb\n"), name="plan.txt")
    services.document_version_add(tenant=tenant_a, actor=owner_a, document=document, fileobj=text_file("a\nc\n"))
    return document


def test_links_are_made_listed_used_and_revoked(api_a, tenant_a, plan):
    made = api_a.post(
        f"/api/v1/content/documents/{plan.pk}/links/", {"max_downloads": 2, "version": 1}, content_type=JSON
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["state"] == "active" and body["version"] == 1 and "/content/s/" in body["url"]
    listed = api_a.get(f"/api/v1/content/documents/{plan.pk}/links/").json()
    assert [link["id"] for link in listed] == [body["id"]] and "url" not in listed[0]
    revoked = api_a.post(f"/api/v1/content/documents/{plan.pk}/links/{body['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"


def test_bad_link_input_is_problem_json_naming_the_field(api_a, plan):
    response = api_a.post(
        f"/api/v1/content/documents/{plan.pk}/links/", {"expires_at": "2001-01-01T00:00:00Z"}, content_type=JSON
    )
    assert response.status_code == 422 and response["Content-Type"].startswith("application/problem+json")
    assert "expires_at" in str(response.json())
    response = api_a.post(f"/api/v1/content/documents/{plan.pk}/links/", {"version": 9}, content_type=JSON)
    assert response.status_code == 422 and "version" in str(response.json())


def test_comments_threads_and_resolve_through_the_api(api_a, tenant_a, owner_a, plan):
    made = api_a.post(f"/api/v1/content/documents/{plan.pk}/comments/", {"body": "Why c?"}, content_type=JSON)
    assert made.status_code == 201
    root = made.json()["id"]
    reply = api_a.post(
        f"/api/v1/content/documents/{plan.pk}/comments/", {"body": "Typo", "parent": root}, content_type=JSON
    ).json()
    assert reply["thread"] == root
    assert [c["body"] for c in api_a.get(f"/api/v1/content/documents/{plan.pk}/comments/").json()] == ["Why c?", "Typo"]
    assert api_a.post(f"/api/v1/content/comments/{root}/resolve/").json()["resolved_at"] is not None
    assert api_a.post(f"/api/v1/content/comments/{root}/reopen/").json()["resolved_at"] is None
    edited = api_a.patch(f"/api/v1/content/comments/{root}/", {"body": "Why c, not b?"}, content_type=JSON)
    assert edited.status_code == 200 and edited.json()["edited_at"]
    assert api_a.get(f"/api/v1/content/comments/{root}/revisions/").json()[0]["body"] == "Why c?"
    empty = api_a.post(f"/api/v1/content/documents/{plan.pk}/comments/", {"body": ""}, content_type=JSON)
    assert empty.status_code == 400 and "body" in str(empty.json())


def test_the_diff_through_the_api(api_a, plan):
    diff = api_a.get(f"/api/v1/content/documents/{plan.pk}/diff/", {"old": 1, "new": 2}).json()
    assert diff["added"] == 1 and diff["removed"] == 1 and "-b" in diff["unified"] and "+c" in diff["unified"]
    assert api_a.get(f"/api/v1/content/documents/{plan.pk}/diff/", {"old": "x", "new": 2}).status_code == 422


def test_typed_metadata_fields_through_the_api(api_a, plan):
    fields = [
        {"key": "amount", "type": "number", "value": "12.5"},
        {"key": "due", "type": "date", "value": "2026-05-01"},
    ]
    response = api_a.patch(f"/api/v1/content/documents/{plan.pk}/", {"metadata_fields": fields}, content_type=JSON)
    assert response.status_code == 200, response.content
    assert response.json()["metadata"] == {"amount": 12.5, "due": "2026-05-01"}
    assert response.json()["metadata_fields"][1] == {"key": "due", "type": "date", "value": "2026-05-01"}
    bad = api_a.patch(
        f"/api/v1/content/documents/{plan.pk}/",
        {"metadata_fields": [{"key": "amount", "type": "number", "value": "lots"}]}, content_type=JSON,
    )  # fmt: skip
    assert bad.status_code == 422 and "metadata" in str(bad.json())
    plain = api_a.patch(f"/api/v1/content/documents/{plan.pk}/", {"metadata": {"n": 3, "t": "x"}}, content_type=JSON)
    assert plain.json()["metadata_fields"] == [
        {"key": "n", "type": "number", "value": 3},
        {"key": "t", "type": "text", "value": "x"},
    ]


def test_folder_shares_give_a_viewer_api_writes_in_that_folder(tenant_a, owner_a):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Shared")
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    viewer_api = client_for(tenant_a, viewer)

    def upload():
        return viewer_api.post(
            "/api/v1/content/documents/", {"file": SimpleUploadedFile("v.txt", b"v"), "folder": folder.pk}
        )

    assert upload().status_code == 403
    owner_api = client_for(tenant_a, owner_a)
    shared = owner_api.post(
        f"/api/v1/content/folders/{folder.pk}/shares/", {"user": viewer.pk, "role": "editor"}, content_type=JSON
    )
    assert shared.status_code == 201
    assert upload().status_code == 201
    assert viewer_api.post(f"/api/v1/content/folders/{folder.pk}/shares/", {"user": viewer.pk, "role": "editor"},
                           content_type=JSON).status_code == 403  # fmt: skip
    assert viewer_api.post("/api/v1/content/documents/", {"file": SimpleUploadedFile("t.txt", b"t")}).status_code == 403
    assert owner_api.delete(f"/api/v1/content/folders/{folder.pk}/shares/{shared.json()['id']}/").status_code == 204
    assert upload().status_code == 403


def test_tenant_b_reaches_none_of_a_links_comments_shares_or_diffs(tenant_a, tenant_b, owner_a, owner_b, plan):
    owner_api = client_for(tenant_a, owner_a)
    link = owner_api.post(f"/api/v1/content/documents/{plan.pk}/links/", {}, content_type=JSON).json()
    comment = owner_api.post(f"/api/v1/content/documents/{plan.pk}/comments/", {"body": "x"}, content_type=JSON).json()
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="F")
    b = api_client(tenant_b, make_key(tenant_b, scope_list=["content:write"])[1])
    assert b.get(f"/api/v1/content/documents/{plan.pk}/links/").status_code == 404
    assert b.post(f"/api/v1/content/documents/{plan.pk}/links/{link['id']}/revoke/").status_code == 404
    assert b.get(f"/api/v1/content/documents/{plan.pk}/comments/").status_code == 404
    assert b.get(f"/api/v1/content/comments/{comment['id']}/").status_code == 404
    assert b.patch(f"/api/v1/content/comments/{comment['id']}/", {"body": "y"}, content_type=JSON).status_code == 404
    assert b.get(f"/api/v1/content/documents/{plan.pk}/diff/", {"old": 1, "new": 2}).status_code == 404
    assert b.get(f"/api/v1/content/folders/{folder.pk}/shares/").status_code == 404
    assert client_for(tenant_a, owner_b).get(f"/api/v1/content/documents/{plan.pk}/links/").status_code == 403
    with tenant_context(tenant_a):
        assert ShareLink.objects.get(pk=link["id"]).revoked_at is None


def test_tus_uploads_follow_folder_shares(tenant_a, owner_a):
    import base64

    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Inbox")
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    client = client_for(tenant_a, viewer)

    def start(folder_id):
        encoded = base64.b64encode(str(folder_id).encode()).decode()
        meta = f"filename {base64.b64encode(b'a.txt').decode()},folder {encoded}"
        return client.post(
            "/api/v1/content/uploads/", HTTP_TUS_RESUMABLE="1.0.0", HTTP_UPLOAD_LENGTH="3", HTTP_UPLOAD_METADATA=meta
        )

    refused = start(folder.pk)
    assert refused.status_code == 403 and refused["Content-Type"].startswith("application/problem+json")
    sharing.folder_share(tenant=tenant_a, actor=owner_a, folder=folder, user=viewer, role="editor")
    assert start(folder.pk).status_code == 201
