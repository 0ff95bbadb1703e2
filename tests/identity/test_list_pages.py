"""The identity lists as data tables: members (role change in-page with htmx), invitations,
sessions and the audit log page (admins only), with their CSV exports and tenant isolation."""

import csv
import io
import re

import pytest
from auditlog.models import LogEntry
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.identity.audit import audit_entry_words
from apps.identity.models import Membership, User
from tests.conftest import PASSWORD, client_for
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


# --- Members and invitations -------------------------------------------------------------------


def test_role_change_with_htmx_answers_with_the_message_and_a_table_refresh(tenant_a, owner_a):
    bob = MembershipFactory(tenant=tenant_a, role="member", user=UserFactory(email="bob@acme.test"))
    response = client_for(tenant_a, owner_a).post(f"/members/{bob.pk}/role/", {"role": "admin"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "table-refresh"
    body = response.content.decode()
    assert 'hx-swap-oob="outerHTML:.messages"' in body and "bob@acme.test is now admin." in body
    bob.refresh_from_db()
    assert bob.role == "admin"
    # A refused change says why, the same way.
    refused = client_for(tenant_a, owner_a).post(f"/members/{bob.pk}/role/", {"role": "emperor"}, **HTMX)
    assert refused["HX-Trigger"] == "table-refresh" and "message-error" in refused.content.decode()


def test_role_change_without_javascript_still_redirects(tenant_a, owner_a):
    bob = MembershipFactory(tenant=tenant_a, role="member")
    response = client_for(tenant_a, owner_a).post(f"/members/{bob.pk}/role/", {"role": "viewer"})
    assert response.status_code == 302 and response["Location"] == "/members/"


def test_members_rows_have_their_actions_and_confirmations(tenant_a, owner_a):
    bob = MembershipFactory(tenant=tenant_a, role="member", user=UserFactory(email="bob@acme.test"))
    body = client_for(tenant_a, owner_a).get("/members/").content.decode()
    row = re.search(r'<tr data-member="bob@acme.test".*?</tr>', body, re.S).group(0)
    assert f'hx-post="/members/{bob.pk}/role/"' in row
    assert 'data-confirm="Remove bob@acme.test from Alpha Ltd?"' in row
    # The sole owner's Leave is disabled, with the reason beside it (leaving would fail).
    own = re.search(rf'<tr data-member="{owner_a.email}".*?</tr>', body, re.S).group(0)
    assert 'disabled aria-describedby="leave-blocked">Leave</button>' in own and "Remove</button>" not in own
    assert "You are the only owner." in own and "data-confirm=" not in own


def test_a_viewer_sees_members_without_buttons(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    body = client_for(tenant_a, viewer.user).get("/members/").content.decode()
    assert "hx-post" not in body and "Remove</button>" not in body
    assert "Pending invitations" not in body  # viewers do not see invitations
    assert client_for(tenant_a, viewer.user).get("/members/", {"inv-_export": "csv"}).status_code == 200


def test_withdrawing_an_invitation_asks_first(tenant_a, owner_a):
    from apps.identity.services import invitation_create

    invitation, _ = invitation_create(
        actor=Membership.objects.get(tenant=tenant_a, user=owner_a), email="guest@acme.test", role="member"
    )
    body = client_for(tenant_a, owner_a).get("/members/").content.decode()
    assert (
        f'action="/invitations/{invitation.pk}/revoke/" data-confirm="Withdraw the invitation to guest@acme.test?'
        in body
    )


def test_members_export_and_search_never_show_another_tenant(tenant_a, tenant_b, owner_a, owner_b):
    MembershipFactory(tenant=tenant_b, user=UserFactory(email="secret@beta.test"))
    client = client_for(tenant_a, owner_a)
    rows = _csv(client.get("/members/", {"_export": "csv"}))
    emails = [r[1] for r in rows[1:]]
    assert owner_a.email in emails and "secret@beta.test" not in emails and owner_b.email not in emails
    assert "secret@beta.test" not in client.get("/members/", {"q": "secret"}).content.decode()
    # Tenant B's member ids are not found from A.
    theirs = Membership.objects.get(tenant=tenant_b, user__email="secret@beta.test")
    assert client.post(f"/members/{theirs.pk}/role/", {"role": "viewer"}, **HTMX).status_code == 404
    assert client_for(tenant_b, owner_a).get("/members/", {"_export": "csv"}).status_code == 403


# --- Sessions ----------------------------------------------------------------------------------


def _log_in(tenant, email, agent):
    client = client_for(tenant)
    client.post("/accounts/login/", {"login": email, "password": PASSWORD}, HTTP_USER_AGENT=agent)
    return client


def test_sessions_table_lists_only_mine_with_confirmed_end_buttons(tenant_a, tenant_b, owner_b):
    me = MembershipFactory(tenant=tenant_a, role="admin").user  # a person with no sessions of other tests
    phone = _log_in(tenant_a, me.email, "Mozilla/5.0 (iPhone) Safari/604.1")
    laptop = _log_in(tenant_a, me.email, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
    _log_in(tenant_b, owner_b.email, "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0")
    body = laptop.get("/security/sessions/").content.decode()
    assert "Safari on iPhone" in body and "Chrome on Linux" in body and "Firefox" not in body
    assert body.count('data-confirm="End the session') == 1  # not on this session's own row
    assert 'data-confirm="End every other session?' in body
    rows = _csv(laptop.get("/security/sessions/", {"_export": "csv"}))
    assert rows[0] == ["Device", "IP address", "Organisation", "Last activity"]
    assert sorted(r[0] for r in rows[1:]) == ["Chrome on Linux", "Safari on iPhone"]
    assert [r[0] for r in _csv(laptop.get("/security/sessions/", {"_export": "csv", "q": "iphone"}))[1:]] == [
        "Safari on iPhone"
    ]
    assert phone.get("/security/sessions/").status_code == 200


# --- The audit log page ------------------------------------------------------------------------


@pytest.mark.parametrize("role, status", [("owner", 200), ("admin", 200), ("member", 403), ("viewer", 403)])
def test_audit_log_page_is_for_admins(tenant_a, role, status):
    person = MembershipFactory(tenant=tenant_a, role=role)
    client = client_for(tenant_a, person.user)
    assert client.get("/audit-log/").status_code == status
    assert client.get("/audit-log/", {"_export": "csv"}).status_code == status
    nav = client.get("/profile/").content.decode()
    assert ('href="/audit-log/"' in nav) is (status == 200)


def test_audit_log_shows_actions_in_words_and_filters_them(tenant_a, owner_a):
    bob = MembershipFactory(tenant=tenant_a, role="member", user=UserFactory(email="bob@acme.test"))
    client = client_for(tenant_a, owner_a)
    client.post(f"/members/{bob.pk}/role/", {"role": "admin"})
    body = client.get("/audit-log/").content.decode()
    assert "Updated membership: role" in body
    with schema_context(tenant_a.schema_name):
        update = LogEntry.objects.filter(action=LogEntry.Action.UPDATE, object_pk=str(bob.pk)).get()
        membership_type = update.content_type_id
    assert audit_entry_words(update) == "Updated membership: role"
    rows = _csv(client.get("/audit-log/", {"_export": "csv", "actor": owner_a.pk, "action": 1}))
    assert rows[0] == ["When", "Who", "What happened", "About", "IP address"]
    assert [r[1:3] for r in rows[1:]] == [[owner_a.email, "Updated membership: role"]]
    only_memberships = _csv(client.get("/audit-log/", {"_export": "csv", "object_type": membership_type}))
    assert [r[2] for r in only_memberships[1:]] == ["Updated membership: role"]
    assert [r[3] for r in _csv(client.get("/audit-log/", {"_export": "csv", "q": "bob@acme"}))[1:]]


def test_audit_log_time_range_is_read_in_the_active_zone(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    client.post("/accounts/logout/")
    client = _log_in(tenant_a, owner_a.email, "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0")
    later = (timezone.localtime() + timezone.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    earlier = (timezone.localtime() - timezone.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    assert "Logged in" in client.get("/audit-log/", {"since": earlier}).content.decode()
    page = client.get("/audit-log/", {"since": later}).content.decode()
    assert "No rows match your filter." in page
    assert 'type="datetime-local"' in page and f"From ({timezone.get_current_timezone_name()})" in page
    assert "Logged in" in client.get("/audit-log/", {"until": later, "action": 3}).content.decode()


def test_audit_log_of_another_tenant_never_shows(tenant_a, tenant_b, owner_a, owner_b):
    bob = MembershipFactory(tenant=tenant_b, role="member", user=UserFactory(email="bob@beta.test"))
    client_for(tenant_b, owner_b).post(f"/members/{bob.pk}/role/", {"role": "admin"})
    client = client_for(tenant_a, owner_a)
    assert "bob@beta.test" not in client.get("/audit-log/").content.decode()
    rows = _csv(client.get("/audit-log/", {"_export": "csv"}))
    assert not any("bob@beta.test" in cell for row in rows for cell in row)
    assert client_for(tenant_b, owner_a).get("/audit-log/").status_code == 403


def test_my_own_row_says_you_even_without_a_name(tenant_a, owner_a):
    owner_a.full_name = ""
    owner_a.save(update_fields=["full_name"])
    body = client_for(tenant_a, owner_a).get("/members/").content.decode()
    own = re.search(rf'<tr data-member="{owner_a.email}".*?</tr>', body, re.S).group(0)
    assert re.search(r'\s—</span> <span class="badge badge-info">you</span>', own)  # after the initials
    rows = _csv(client_for(tenant_a, owner_a).get("/members/", {"_export": "csv", "q": owner_a.email}))
    assert rows[1][0] == ""


def test_members_show_their_picture_or_initials(tenant_a, owner_a):
    owner_a.full_name = "Ann Owner"
    owner_a.save(update_fields=["full_name"])
    bob = MembershipFactory(tenant=tenant_a, role="member", user=UserFactory(email="bob@acme.test"))
    User.objects.filter(pk=bob.user_id).update(avatar=f"users/{bob.user_id}/avatar/x.png")
    body = client_for(tenant_a, owner_a).get("/members/").content.decode()
    own = re.search(rf'<tr data-member="{owner_a.email}".*?</tr>', body, re.S).group(0)
    assert re.search(r'<span class="avatar" aria-hidden="true">AO</span>\s+Ann Owner', own)
    row = re.search(r'<tr data-member="bob@acme.test".*?</tr>', body, re.S).group(0)
    assert f'<img class="avatar" src="/members/{bob.user_id}/avatar/"' in row
