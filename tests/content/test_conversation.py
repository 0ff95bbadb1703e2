"""Comments on documents and folders: threads, resolve/reopen, edit history, @mentions that notify
(in-app, e-mail, live) members of this tenant only; htmx answers; isolation."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django_tenants.utils import tenant_context

from apps.content import comments, services
from apps.content.models import Comment
from apps.notifications.models import Notification
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import text_file


@pytest.fixture
def plan(tenant_a, owner_a):
    return services.document_upload(tenant=tenant_a, actor=owner_a, fileobj=text_file("v1"), name="plan.txt")


def test_a_mention_notifies_the_member_in_app_and_by_email(tenant_a, owner_a, plan, run_now):
    jane = MembershipFactory(tenant=tenant_a, role="viewer", user__full_name="Jane Doe").user
    client = client_for(tenant_a, owner_a)
    body = f"@{jane.email} can you check the totals? <script>alert(1)</script>"
    response = run_now(lambda: client.post(f"/content/documents/{plan.pk}/comments/", {"body": body}))
    assert response.status_code == 302 and response["Location"].endswith("#comments")
    with tenant_context(tenant_a):
        note = Notification.objects.get(user=jane, event_type="content.member_mentioned")
        assert "mentioned you in a comment on “plan.txt”" in note.title and note.url.endswith("#comments")
    assert any(jane.email in m.to for m in mail.outbox)
    page = client.get(f"/content/documents/{plan.pk}/").content.decode()
    assert '<span class="mention"' in page and "@Jane Doe" in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_members_of_another_tenant_and_strangers_are_never_mentioned(
    tenant_a, tenant_b, owner_a, owner_b, plan, run_now
):
    body = f"@{owner_b.email} and @nobody@example.com look"
    comment = run_now(lambda: comments.comment_add(tenant=tenant_a, actor=owner_a, body=body, document=plan))
    with tenant_context(tenant_a):
        assert not comment.mentions.exists()
        assert not Notification.objects.filter(event_type="content.member_mentioned").exists()
    with tenant_context(tenant_b):
        assert not Notification.objects.filter(user=owner_b, event_type="content.member_mentioned").exists()


def test_threads_replies_resolve_and_reopen_with_htmx(tenant_a, owner_a, plan):
    client = client_for(tenant_a, owner_a)
    client.post(f"/content/documents/{plan.pk}/comments/", {"body": "First point"})
    with tenant_context(tenant_a):
        root = Comment.objects.get(body="First point")
    reply = client.post(
        f"/content/documents/{plan.pk}/comments/", {"body": "Agreed", "parent": root.pk}, HTTP_HX_REQUEST="true"
    )
    html = reply.content.decode()
    assert reply.status_code == 200 and html.startswith('<section class="card comments" id="comments"')
    assert "<html" not in html  # only the section, swapped in place
    assert 'id="comments"' in html and "Agreed" in html and "1 open" in html
    resolved = client.post(f"/content/comments/{root.pk}/resolve/", HTTP_HX_REQUEST="true").content.decode()
    assert "Resolved" in resolved and "Reopen" in resolved
    reopened = client.post(f"/content/comments/{root.pk}/resolve/", {"action": "reopen"}, HTTP_HX_REQUEST="true")
    assert "1 open" in reopened.content.decode()
    empty = client.post(f"/content/documents/{plan.pk}/comments/", {"body": "  "}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 200 and "This field is required." in empty.content.decode()
    with tenant_context(tenant_a):
        assert Comment.objects.get(body="Agreed").parent_id == root.pk


def test_only_the_author_edits_and_the_history_keeps_the_old_text(tenant_a, owner_a, plan, run_now):
    comment = comments.comment_add(tenant=tenant_a, actor=owner_a, body="Totl is 42", document=plan)
    client = client_for(tenant_a, owner_a)
    jane = MembershipFactory(tenant=tenant_a, role="member").user
    run_now(lambda: client.post(f"/content/comments/{comment.pk}/edit/", {"body": f"Total is 42, @{jane.email}"}))
    history = client.get(f"/content/comments/{comment.pk}/history/").content.decode()
    assert "Totl is 42" in history and "Total is 42" in history
    with tenant_context(tenant_a):
        assert Notification.objects.filter(user=jane, event_type="content.member_mentioned").count() == 1
    assert (
        client_for(tenant_a, jane).post(f"/content/comments/{comment.pk}/edit/", {"body": "mine now"}).status_code
        == 403
    )
    with pytest.raises(PermissionDenied), tenant_context(tenant_a):
        comments.comment_edit(tenant=tenant_a, actor=jane, comment=comment, body="x")


def test_folder_comments_have_their_page(tenant_a, owner_a):
    folder = services.folder_create(tenant=tenant_a, actor=owner_a, name="Board")
    client = client_for(tenant_a, owner_a)
    assert client.post(f"/content/folders/{folder.pk}/comments/", {"body": "Agenda?"}).status_code == 302
    page = client.get(f"/content/folders/{folder.pk}/comments/").content.decode()
    assert "Comments on “Board”" in page and "Agenda?" in page


def test_mention_autocomplete_lists_this_tenants_members_only(tenant_a, tenant_b, owner_a, owner_b):
    MembershipFactory(tenant=tenant_a, role="member", user__full_name="Zed Zimmer")
    found = client_for(tenant_a, owner_a).get("/content/mentions/?q=zed").json()["members"]
    assert [m["name"] for m in found] == ["Zed Zimmer"]
    everyone = client_for(tenant_a, owner_a).get("/content/mentions/?q=").json()["members"]
    assert owner_b.email not in {m["email"] for m in everyone}


def test_tenant_b_cannot_read_or_write_a_comments(tenant_a, tenant_b, owner_a, owner_b, plan):
    comment = comments.comment_add(tenant=tenant_a, actor=owner_a, body="secret", document=plan)
    b = client_for(tenant_b, owner_b)
    assert b.get(f"/content/documents/{plan.pk}/comments/").status_code == 404
    assert b.post(f"/content/documents/{plan.pk}/comments/", {"body": "hi"}).status_code == 404
    for action in ("edit", "resolve"):
        assert b.post(f"/content/comments/{comment.pk}/{action}/", {"body": "x"}).status_code == 404
    assert b.get(f"/content/comments/{comment.pk}/history/").status_code == 404
    assert client_for(tenant_a, owner_b).get(f"/content/documents/{plan.pk}/comments/").status_code == 403
    with tenant_context(tenant_a):
        assert Comment.objects.get(pk=comment.pk).body == "secret"
