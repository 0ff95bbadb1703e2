"""In-app notifications, preferences per event type, e-mail by Celery, one-click unsubscribe."""

import pytest
from django.core import mail
from django.utils import timezone
from django_tenants.utils import tenant_context

from apps.core.caching import topics_bump
from apps.core.registry import registry
from apps.identity.models import Membership
from apps.identity.services import membership_change_role
from apps.notifications import services
from apps.notifications.models import Notification, NotificationPreference
from tests.conftest import client_for
from tests.events.fixtures import add_member


def promote(tenant, member, role="admin"):
    owner = Membership.objects.get(tenant=tenant, role="owner")
    membership_change_role(actor=owner, membership=member, role=role)


def test_role_change_notifies_the_member_and_admins_but_not_the_actor(in_tenant_a, owner_a, run_now):
    admin = add_member(in_tenant_a, "adm@example.com", role="admin")
    member = add_member(in_tenant_a, "mem@example.com")
    run_now(lambda: promote(in_tenant_a, member, "viewer"))
    recipients = set(Notification.objects.filter(event_type="member.role_changed").values_list("user_id", flat=True))
    assert recipients == {admin.user_id, member.user_id}
    note = Notification.objects.get(user_id=member.user_id)
    assert note.title == "owner@alpha.example.com changed mem@example.com's role to Viewer"
    assert note.url == "/members/"


def test_bell_list_and_mark_read(in_tenant_a, owner_a, run_now):
    Notification.objects.filter(user=owner_a).update(read_at=timezone.now())  # whatever came before
    member = add_member(in_tenant_a, "bell@example.com")
    run_now(lambda: add_member_via_invitation(in_tenant_a, "joiner@example.com"))
    run_now(lambda: promote(in_tenant_a, member))
    client = client_for(in_tenant_a, owner_a)
    page = client.get("/notifications/")
    content = page.content.decode()
    assert page.status_code == 200
    assert "joiner@example.com joined as member" in content
    assert "joiner@example.com accepted owner@alpha.example.com&#x27;s invitation" in content
    assert "data-unread-count>2</span>" in content  # the bell
    first = Notification.objects.filter(user=owner_a, read_at__isnull=True).order_by("id").first()
    assert client.post(f"/notifications/{first.pk}/read/").status_code == 302
    assert services.unread_count(user_id=owner_a.pk) == 1
    assert client.post("/notifications/read-all/").status_code == 302
    assert services.unread_count(user_id=owner_a.pk) == 0


def test_the_bell_counts_up_to_99_plus(in_tenant_a, owner_a):
    Notification.objects.filter(user=owner_a).update(read_at=timezone.now())
    Notification.objects.bulk_create(
        Notification(user=owner_a, event_type="member.joined", title=f"n{i}", in_app=True) for i in range(99)
    )
    assert services.unread_count(user_id=owner_a.pk) == 99
    client = client_for(in_tenant_a, owner_a)
    assert "data-unread-count>99</span>" in client.get("/notifications/").content.decode()
    Notification.objects.bulk_create(
        Notification(user=owner_a, event_type="member.joined", title=f"m{i}", in_app=True) for i in range(150)
    )
    topics_bump(topics=["notification"])  # written behind the services' back: the cached count is made stale here
    assert services.unread_count(user_id=owner_a.pk) == 100  # counted no further
    content = client.get("/notifications/").content.decode()
    assert "data-unread-count>99+</span>" in content and "Notifications: more than 99 unread" in content


def add_member_via_invitation(tenant, email):
    from apps.identity.services import invitation_accept_new_user, invitation_create

    owner = Membership.objects.get(tenant=tenant, role="owner")
    invitation, _ = invitation_create(actor=owner, email=email, role="member")
    invitation_accept_new_user(invitation=invitation, password="a-long-password-1")


def test_a_member_cannot_mark_someone_elses_notification(in_tenant_a, owner_a, run_now):
    member = add_member(in_tenant_a, "nosy@example.com")
    run_now(lambda: add_member_via_invitation(in_tenant_a, "x@example.com"))
    owners = Notification.objects.filter(user=owner_a).first()
    client_for(in_tenant_a, member.user).post(f"/notifications/{owners.pk}/read/")
    owners.refresh_from_db()
    assert owners.read_at is None


def test_notifications_stay_in_their_tenant(in_tenant_a, tenant_b, owner_a, owner_b, run_now):
    before = Notification.objects.filter(user=owner_a).count()
    run_now(lambda: add_member_via_invitation(in_tenant_a, "iso@example.com"))
    assert Notification.objects.filter(user=owner_a).count() == before + 2  # invitation accepted, member joined
    with tenant_context(tenant_b):
        assert not Notification.objects.filter(title__contains="iso@example.com").exists()
    # owner_b is no member of alpha: the page is refused; beta's own list is empty of alpha's news.
    assert client_for(in_tenant_a, owner_b).get("/notifications/").status_code == 403
    assert b"iso@example.com" not in client_for(tenant_b, owner_b).get("/notifications/").content
    assert client_for(in_tenant_a).get("/notifications/").status_code == 302  # anonymous: log in


@pytest.mark.parametrize(
    ("channel", "in_app", "emails"),
    [("in_app", True, 0), ("email", False, 1), ("both", True, 1), ("none", None, 0)],
)
def test_preferences_choose_the_channels(in_tenant_a, owner_a, run_now, channel, in_app, emails):
    services.preference_set(user=owner_a, event_type="member.joined", channel=channel)
    run_now(lambda: add_member_via_invitation(in_tenant_a, "pref@example.com"))
    note = Notification.objects.filter(user=owner_a, event_type="member.joined").first()
    assert (note.in_app if note else None) == in_app
    sent = [m for m in mail.outbox if m.to == [owner_a.email]]
    assert len(sent) == emails
    if emails:
        message = sent[0]
        assert message.subject == "[Alpha Ltd] pref@example.com joined as member"
        assert message.alternatives[0][1] == "text/html"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message.extra_headers["List-Unsubscribe"].startswith(
            "<http://alpha.localhost:8000/notifications/unsubscribe/"
        )


def test_preferences_page_saves_and_rejects_bad_choices(in_tenant_a, owner_a):
    client = client_for(in_tenant_a, owner_a)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200 and b"member.joined" in page.content
    # The kit's form renderer: a label in words per event, its description as help, no hand-made table.
    html = page.content.decode()
    assert '<label for="id_member.joined">Member joined' in html and "<table" not in html
    assert 'aria-describedby="id_member.joined_helptext"' in html
    data = {name: "in_app" for name in registry["event_types"]}
    data["member.joined"] = "email"
    assert client.post("/notifications/preferences/", data).status_code == 302
    assert NotificationPreference.objects.get(user=owner_a, event_type="member.joined").channel == "email"
    data["member.joined"] = "carrier-pigeon"
    response = client.post("/notifications/preferences/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Select a valid choice" in html
    # The error sits under its own field, which is marked invalid.
    invalid = html[html.index('<div class="field field-invalid">') :]
    assert invalid.index('id="id_member.joined"') < invalid.index("Select a valid choice")
    assert html.count('aria-invalid="true"') == 1


def test_one_click_unsubscribe_stops_email_only(in_tenant_a, owner_a, tenant_b):
    services.preference_set(user=owner_a, event_type="member.joined", channel="both")
    token = services.unsubscribe_token(user_id=owner_a.pk, event_type="member.joined", schema_name="t_alpha")
    anonymous = client_for(in_tenant_a)
    anonymous.handler.enforce_csrf_checks = True  # mail clients post without a CSRF token (RFC 8058)
    page = anonymous.get(f"/notifications/unsubscribe/{token}/")
    assert page.status_code == 200 and b"Unsubscribe" in page.content
    assert anonymous.post(f"/notifications/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert services.preference_channel(user_id=owner_a.pk, event_type="member.joined") == "in_app"
    # The link is for alpha only, and a forged one is refused.
    assert client_for(tenant_b).post(f"/notifications/unsubscribe/{token}/").status_code == 404
    assert anonymous.post(f"/notifications/unsubscribe/{token}x/").status_code == 404


def test_email_is_sent_once_even_if_the_task_runs_twice(in_tenant_a, owner_a, run_now):
    services.preference_set(user=owner_a, event_type="member.joined", channel="email")
    run_now(lambda: add_member_via_invitation(in_tenant_a, "twice@example.com"))
    note = Notification.objects.get(user=owner_a, event_type="member.joined")
    assert services.notification_email_send(notification_id=note.pk) is False
    assert len([m for m in mail.outbox if m.to == [owner_a.email]]) == 1
