"""Download links (signed, expiring, password, download limit, revoke) and folder shares with roles."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.content import services, sharing
from apps.content.models import FolderShare, ShareLink
from apps.events.models import Event
from apps.identity import lockout
from tests.conftest import client_for, host_of
from tests.factories import MembershipFactory

from .conftest import text_file


def anonymous(tenant) -> Client:
    return Client(HTTP_HOST=host_of(tenant))


def make_link(tenant, owner, document, **options):
    options.setdefault("expires_at", timezone.now() + timedelta(days=1))
    return sharing.share_link_create(tenant=tenant, actor=owner, document=document, **options)


@pytest.fixture
def plan(tenant_a, owner_a):
    return services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("v1"), name="plan.txt")


def _download(client, address):
    response = client.get(address + "download/")
    return response, (b"".join(response.streaming_content) if response.status_code == 200 else b"")


def test_a_link_downloads_without_logging_in_and_follows_the_latest_version(tenant_a, owner_a, plan):
    link, address = make_link(tenant_a, owner_a, plan)
    page = anonymous(tenant_a).get(address)
    assert (
        page.status_code == 200 and "plan.txt" in page.content.decode() and page["Cache-Control"] == "private, no-store"
    )
    services.document_version_add(tenant=tenant_a, actor=owner_a, document=plan, fileobj=text_file("v2"))
    response, body = _download(anonymous(tenant_a), address)
    assert body == b"v2" and "attachment" in response["Content-Disposition"]
    with tenant_context(tenant_a):
        assert ShareLink.objects.get(pk=link.pk).downloads == 1
        assert Event.objects.filter(type="content.link_used").exists()
        assert Event.objects.filter(type="content.link_created").exists()


def test_a_link_to_one_version_keeps_giving_that_version(tenant_a, owner_a, plan):
    with tenant_context(tenant_a):
        first = plan.current
    services.document_version_add(tenant=tenant_a, actor=owner_a, document=plan, fileobj=text_file("v2"))
    _, address = make_link(tenant_a, owner_a, plan, version=first)
    assert _download(anonymous(tenant_a), address)[1] == b"v1"


def test_a_forged_or_other_tenants_address_is_a_404(tenant_a, tenant_b, owner_a, plan):
    _, address = make_link(tenant_a, owner_a, plan)
    assert anonymous(tenant_b).get(address).status_code == 404  # the signature is salted with A's schema
    token, signature = address.strip("/").split("/")[-1].rsplit(":", 1)
    assert anonymous(tenant_a).get(f"/content/s/{token}:{'A' * len(signature)}/").status_code == 404
    assert anonymous(tenant_a).get("/content/s/nothing/download/").status_code == 404


def test_expired_revoked_and_used_up_links_say_so(tenant_a, owner_a, plan):
    link, address = make_link(tenant_a, owner_a, plan, max_downloads=1)
    assert _download(anonymous(tenant_a), address)[0].status_code == 200
    response, _ = _download(anonymous(tenant_a), address)
    assert response.status_code == 410 and "used up" in response.content.decode()
    link, address = make_link(tenant_a, owner_a, plan)
    sharing.share_link_revoke(tenant=tenant_a, actor=owner_a, link=link)
    page = anonymous(tenant_a).get(address)
    assert page.status_code == 410 and "turned off" in page.content.decode()
    link, address = make_link(tenant_a, owner_a, plan)
    with tenant_context(tenant_a):
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "This link has expired." in _download(anonymous(tenant_a), address)[0].content.decode()


def test_the_download_limit_is_counted_by_one_conditional_update(tenant_a, owner_a, plan):
    link, _ = make_link(tenant_a, owner_a, plan, max_downloads=3)
    stale = ShareLink.objects.none()
    results = []
    with tenant_context(tenant_a):
        stale = ShareLink.objects.get(pk=link.pk)  # a copy read before the downloads, as a parallel request holds
    for _ in range(5):
        try:
            sharing.share_link_download(tenant=tenant_a, link=ShareLink(pk=stale.pk, document=plan))
            results.append("ok")
        except sharing.LinkUnavailable:
            results.append("refused")
    assert results == ["ok", "ok", "ok", "refused", "refused"]
    with tenant_context(tenant_a):
        assert ShareLink.objects.get(pk=link.pk).downloads == 3


def test_a_password_protected_link_asks_for_it_and_locks_after_wrong_guesses(tenant_a, owner_a, plan, settings):
    link, address = make_link(tenant_a, owner_a, plan, password="correct horse")
    lockout._redis().delete(lockout.account_key(f"content-link:{tenant_a.schema_name}:{link.pk}"))
    lockout._redis().delete(lockout.ip_key("127.0.0.1"))
    visitor = anonymous(tenant_a)
    assert "is protected" in visitor.get(address).content.decode()
    assert visitor.get(address + "download/").status_code == 302  # to the password form
    wrong = visitor.post(address, {"password": "nope nope"})
    assert wrong.status_code == 400 and "That is not the password." in wrong.content.decode()
    assert visitor.post(address, {"password": "correct horse"}).status_code == 302
    assert _download(visitor, address)[1] == b"v1"
    other = anonymous(tenant_a)
    for _ in range(settings.HUB_LOGIN_LOCK_THRESHOLD):
        other.post(address, {"password": "guess guess"})
    locked = other.post(address, {"password": "correct horse"})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    lockout._redis().delete(lockout.account_key(f"content-link:{tenant_a.schema_name}:{link.pk}"))
    lockout._redis().delete(lockout.ip_key("127.0.0.1"))
    with tenant_context(tenant_a):
        stored = ShareLink.objects.get(pk=link.pk).password
    assert "correct horse" not in stored and stored.count("$") >= 2  # hashed (test settings: a fast hasher)


def test_link_rules_are_checked(tenant_a, owner_a, plan):
    with pytest.raises(ValidationError) as error:
        make_link(tenant_a, owner_a, plan, expires_at=timezone.now() - timedelta(minutes=1), max_downloads=0)
    assert set(error.value.message_dict) == {"expires_at", "max_downloads"}
    with pytest.raises(ValidationError):
        make_link(tenant_a, owner_a, plan, password="short")


def test_links_are_made_listed_and_turned_off_from_the_document_page(tenant_a, owner_a, plan):
    client = client_for(tenant_a, owner_a)
    expires = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/content/documents/{plan.pk}/links/", {"expires_at": expires, "max_downloads": "5"})
    assert response.status_code == 302
    page = client.get(f"/content/documents/{plan.pk}/").content.decode()
    assert (
        "/content/s/" in page and "0 of 5" in page and "Active" in page and 'data-confirm="Turn this link off?' in page
    )
    with tenant_context(tenant_a):
        link = ShareLink.objects.get(document=plan)
    assert client.post(f"/content/documents/{plan.pk}/links/{link.pk}/revoke/").status_code == 302
    assert "Turned off" in client.get(f"/content/documents/{plan.pk}/").content.decode()
    bad = client.post(f"/content/documents/{plan.pk}/links/", {"expires_at": "2001-01-01T10:00"})
    assert bad.status_code == 400 and "Choose a time in the future." in bad.content.decode()


def test_viewers_cannot_make_links_and_tenant_b_cannot_touch_a_links(tenant_a, tenant_b, owner_a, owner_b, plan):
    link, _ = make_link(tenant_a, owner_a, plan)
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    expires = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert (
        client_for(tenant_a, viewer).post(f"/content/documents/{plan.pk}/links/", {"expires_at": expires}).status_code
        == 403
    )
    assert client_for(tenant_a, viewer).post(f"/content/documents/{plan.pk}/links/{link.pk}/revoke/").status_code == 403
    b = client_for(tenant_b, owner_b)
    assert b.post(f"/content/documents/{plan.pk}/links/", {"expires_at": expires}).status_code == 404
    assert b.post(f"/content/documents/{plan.pk}/links/{link.pk}/revoke/").status_code == 404
    assert client_for(tenant_a, owner_b).get(f"/content/documents/{plan.pk}/").status_code == 403
    with tenant_context(tenant_a):
        assert ShareLink.objects.get(pk=link.pk).revoked_at is None


def test_an_editor_share_lets_a_viewer_change_that_folder_and_below_only(tenant_a, owner_a, run_now):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Design")
    inner = services.folder_create(tenant=tenant_a, actor=owner_a, name="Drafts", parent=folder)
    elsewhere = services.folder_create(tenant=tenant_a, actor=owner_a, name="Finance")
    viewer = MembershipFactory(tenant=tenant_a, role="viewer").user
    client = client_for(tenant_a, viewer)
    assert client.post(f"/content/folders/{inner.pk}/upload/", {"file": text_file("x", "a.txt")}).status_code == 403
    owner = client_for(tenant_a, owner_a)
    response = run_now(
        lambda: owner.post(f"/content/folders/{folder.pk}/sharing/", {"user": viewer.pk, "role": "editor"})
    )
    assert response.status_code == 302
    assert client.post(f"/content/folders/{inner.pk}/upload/", {"file": text_file("x", "a.txt")}).status_code == 302
    assert client.post(f"/content/folders/{elsewhere.pk}/upload/", {"file": text_file("x", "b.txt")}).status_code == 403
    page = owner.get(f"/content/folders/{folder.pk}/sharing/").content.decode()
    assert viewer.email in page and "Editor" in page and "Stop sharing" in page
    with tenant_context(tenant_a):
        from apps.notifications.models import Notification

        assert Notification.objects.filter(user=viewer, event_type="content.folder_shared").exists()
        share = FolderShare.objects.get(folder=folder, user=viewer)
    # only admins share; tenant B cannot see or change A's shares
    assert (
        client.post(f"/content/folders/{folder.pk}/sharing/", {"user": viewer.pk, "role": "editor"}).status_code == 403
    )
    assert (
        client_for(tenant_a, owner_a).post(f"/content/folders/{folder.pk}/sharing/{share.pk}/remove/").status_code
        == 302
    )
    assert client.post(f"/content/folders/{inner.pk}/upload/", {"file": text_file("x", "c.txt")}).status_code == 403


def test_tenant_b_cannot_see_or_share_a_folders(tenant_a, tenant_b, owner_a, owner_b):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Private")
    b = client_for(tenant_b, owner_b)
    assert b.get(f"/content/folders/{folder.pk}/sharing/").status_code == 404
    assert b.post(f"/content/folders/{folder.pk}/sharing/", {"user": owner_b.pk, "role": "editor"}).status_code == 404
    # a member of B is not a member of A: A's admin cannot share with them
    response = client_for(tenant_a, owner_a).post(
        f"/content/folders/{folder.pk}/sharing/", {"user": owner_b.pk, "role": "editor"}
    )
    assert response.status_code == 400
    with tenant_context(tenant_a):
        assert not FolderShare.objects.exists()


def test_links_shares_and_comments_are_in_the_audit_log_without_secrets(tenant_a, owner_a, plan):
    from auditlog.models import LogEntry

    from apps.content import comments

    link, _ = make_link(tenant_a, owner_a, plan, password="a long password")
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Audited")
    member = MembershipFactory(tenant=tenant_a, role="member").user
    share = sharing.folder_share(tenant=tenant_a, actor=owner_a, folder=folder, user=member, role="viewer")
    comment = comments.comment_add(tenant=tenant_a, actor=owner_a, body="noted", folder=folder)
    with tenant_context(tenant_a):
        entry = LogEntry.objects.get_for_object(link).get()
        assert "token_hash" not in entry.changes and "password" not in entry.changes
        assert LogEntry.objects.get_for_object(share).exists()
        assert LogEntry.objects.get_for_object(comment).exists()


def test_tenant_b_cannot_read_or_write_a_folder_comments(tenant_a, tenant_b, owner_a, owner_b):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Board")
    b = client_for(tenant_b, owner_b)
    assert b.get(f"/content/folders/{folder.pk}/comments/").status_code == 404
    assert b.post(f"/content/folders/{folder.pk}/comments/", {"body": "hi"}).status_code == 404
    api_b = client_for(tenant_b, owner_b)
    assert api_b.get(f"/api/v1/content/folders/{folder.pk}/comments/").status_code == 404


def test_resuming_a_download_with_a_range_does_not_count_again(tenant_a, owner_a, plan):
    link, address = make_link(tenant_a, owner_a, plan, max_downloads=1)
    visitor = anonymous(tenant_a)
    first = visitor.get(address + "download/", HTTP_RANGE="bytes=0-0")
    assert first.status_code == 206 and b"".join(first.streaming_content) == b"v"
    rest = visitor.get(address + "download/", HTTP_RANGE="bytes=1-")
    assert rest.status_code == 206 and b"".join(rest.streaming_content) == b"1"
    with tenant_context(tenant_a):
        assert ShareLink.objects.get(pk=link.pk).downloads == 1
    assert visitor.get(address + "download/").status_code == 410  # the one download was used
    stranger = anonymous(tenant_a)  # a resume by someone who never started: a new download, refused
    assert stranger.get(address + "download/", HTTP_RANGE="bytes=1-").status_code == 410
