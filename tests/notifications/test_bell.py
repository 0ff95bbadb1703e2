"""The bell: its count and the newest id come from the server on every page; its dropdown lists
the latest notifications in words and marks them all read in place."""

import json
import re

import pytest
from django_tenants.utils import schema_context

from apps.notifications.models import Notification
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def notify(tenant, user, title, body="", read=False):
    from django.utils import timezone

    with schema_context(tenant.schema_name):
        return Notification.objects.create(
            user=user, event_type="member.joined", title=title, body=body, read_at=timezone.now() if read else None
        )


def test_every_page_draws_the_bell_with_the_servers_count_and_newest_id(tenant_a, owner_a):
    notify(tenant_a, owner_a, "Older", read=True)
    newest = notify(tenant_a, owner_a, "Grace joined as member")
    notify(tenant_a, owner_a, "Linus joined as member")
    newest = notify(tenant_a, owner_a, "Ada joined as member")
    # /security/ is a log-in-required page, not a member-decorated one: it used to draw 0 and id 0.
    for path in ("/security/", "/notifications/", "/"):
        html = client_for(tenant_a, owner_a).get(path).content.decode()
        assert f'data-last-id="{newest.pk}"' in html, path
        assert 'aria-label="Notifications: 3 unread"' in html, path
        assert re.search(r"data-unread-count>3</span>", html), path


def test_dropdown_lists_the_latest_in_words_unread_marked(tenant_a, owner_a):
    notify(tenant_a, owner_a, "Old news", read=True)
    for i in range(9):
        notify(tenant_a, owner_a, f"Person {i} joined as member", body=f"Welcome them, number {i}.")
    response = client_for(tenant_a, owner_a).get("/notifications/menu/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    items = re.findall(r'<li class="bell-item( unread)?" data-bell-item="\d+">.*?</li>', html, re.S)
    assert len(items) == 8  # the newest eight; "Old news" and "Person 0" are left for the list
    assert "Person 8 joined as member" in html and "Welcome them, number 8." in html
    assert "Old news" not in html and "Person 0 " not in html
    assert html.count('<span class="visually-hidden">Unread: </span>') == 8
    assert "Mark all read" in html and 'href="/notifications/">See all notifications</a>' in html
    assert json.loads(response["HX-Trigger"]) == {"hub-unread": {"value": 9}}


def test_dropdown_when_all_is_read_or_empty(tenant_a, owner_a):
    html = client_for(tenant_a, owner_a).get("/notifications/menu/").content.decode()
    assert "No notifications yet." in html and "Mark all read" not in html


def test_mark_all_read_from_the_dropdown_answers_the_dropdown_and_the_count(tenant_a, owner_a):
    notify(tenant_a, owner_a, "One")
    notify(tenant_a, owner_a, "Two")
    client = client_for(tenant_a, owner_a)
    response = client.post("/notifications/read-all/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="bell-panel")
    assert response.status_code == 200
    html = response.content.decode()
    assert "One" in html and "Unread: " not in html and "Mark all read" not in html
    assert json.loads(response["HX-Trigger"]) == {"hub-unread": {"value": 0}}
    with schema_context(tenant_a.schema_name):
        assert not Notification.objects.filter(user=owner_a, read_at__isnull=True).exists()
    # Without htmx it is the list page's form: back to the list with a message.
    notify(tenant_a, owner_a, "Three")
    response = client.post("/notifications/read-all/", follow=True)
    assert response.redirect_chain[-1][0] == "/notifications/"
    assert "1 notification marked as read." in response.content.decode()


def test_dropdown_and_mark_all_read_touch_only_the_members_own_in_this_tenant(tenant_a, tenant_b, owner_a):
    both = MembershipFactory(tenant=tenant_a, role="member").user
    MembershipFactory(tenant=tenant_b, role="member", user=both)
    notify(tenant_a, owner_a, "For the owner of A")
    notify(tenant_b, both, "For them in B")
    notify(tenant_a, both, "For them in A")
    client = client_for(tenant_a, both)
    html = client.get("/notifications/menu/").content.decode()
    assert "For them in A" in html and "For them in B" not in html and "For the owner of A" not in html
    client.post("/notifications/read-all/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="bell-panel")
    with schema_context(tenant_a.schema_name):
        assert Notification.objects.get(title="For the owner of A").read_at is None
        assert Notification.objects.get(title="For them in A").read_at is not None
    with schema_context(tenant_b.schema_name):
        assert Notification.objects.get(title="For them in B").read_at is None


def test_opening_an_item_marks_it_read_and_follows_its_link(tenant_a, owner_a):
    with_link = notify(tenant_a, owner_a, "Ada joined as member")
    with schema_context(tenant_a.schema_name):
        Notification.objects.filter(pk=with_link.pk).update(url="/members/")
    without_link = notify(tenant_a, owner_a, "Something happened")
    client = client_for(tenant_a, owner_a)
    html = client.get("/notifications/menu/").content.decode()
    assert f'href="/notifications/{with_link.pk}/open/"' in html
    assert f'href="/notifications/{without_link.pk}/open/"' in html
    response = client.get(f"/notifications/{with_link.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/members/"
    assert client.get(f"/notifications/{without_link.pk}/open/")["Location"] == "/notifications/"
    with schema_context(tenant_a.schema_name):
        assert not Notification.objects.filter(user=owner_a, read_at__isnull=True).exists()
    # The list links through it too.
    assert f'href="/notifications/{with_link.pk}/open/"' in client.get("/notifications/").content.decode()


def test_opening_someone_elses_notification_is_404_and_marks_nothing(tenant_a, tenant_b, owner_a, owner_b):
    other = MembershipFactory(tenant=tenant_a, role="member").user
    theirs = notify(tenant_a, other, "Theirs")
    assert client_for(tenant_a, owner_a).get(f"/notifications/{theirs.pk}/open/").status_code == 404
    not_a_member = client_for(tenant_a, owner_b)
    assert not_a_member.get(f"/notifications/{theirs.pk}/open/").status_code == 403
    in_b = notify(tenant_b, owner_b, "In B")
    assert client_for(tenant_a, owner_a).get(f"/notifications/{in_b.pk}/open/").status_code == 404
    with schema_context(tenant_a.schema_name):
        assert Notification.objects.get(pk=theirs.pk).read_at is None
    with schema_context(tenant_b.schema_name):
        assert Notification.objects.get(pk=in_b.pk).read_at is None


def test_refusals(tenant_a, tenant_b, owner_b):
    assert client_for(tenant_a).get("/notifications/menu/").status_code == 302  # to the log-in page
    assert client_for(tenant_a, owner_b).get("/notifications/menu/").status_code == 403  # not a member of A
    assert client_for(tenant_a, owner_b).post("/notifications/read-all/").status_code == 403
    assert client_for(tenant_a, owner_b).get("/api/v1/search/").status_code == 403
