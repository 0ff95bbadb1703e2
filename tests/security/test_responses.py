"""The one-click responses really work (the sessions are gone, the locked account cannot log in,
the revoked key gets 401, a second factor is required), are recorded, audited and published;
automatic responses per rule; bad input is refused with the reason; tenants never see each other's
incidents."""

import time

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django_tenants.utils import schema_context, tenant_context

from apps.events.models import Event
from apps.events.services import events_dispatch_new
from apps.notifications.models import Notification
from apps.security import detect
from apps.security.models import Incident, IncidentResponse
from apps.security.services import incident_raise
from tests.api.conftest import api_client, make_key
from tests.conftest import PASSWORD, client_for
from tests.factories import MembershipFactory, UserFactory

from .conftest import FIREFOX_WINDOWS, LONDON, log_in, logged_in


@pytest.fixture
def bob(tenant_a):
    user = UserFactory(email="bob@alpha.example.com", full_name="Bob Brown")
    MembershipFactory(tenant=tenant_a, user=user, role="member")
    return user


def raise_about(tenant, user, rule="new_device", **extra) -> Incident:
    finding = detect.Finding(
        rule, f"user:{user.pk}:{time.time()}", f"{user.email} logged in from a new device", time.time(),
        user_id=user.pk, email=user.email, ip=LONDON, **extra,
    )  # fmt: skip
    with schema_context(tenant.schema_name):
        return incident_raise(tenant=tenant, finding=finding)


def respond(tenant, user, incident, action):
    return client_for(tenant, user).post(f"/security-incidents/{incident.pk}/respond/", {"action": action})


def test_end_sessions_logs_the_person_out_everywhere(tenant_a, owner_a, bob):
    browser = log_in(tenant_a, bob.email, ip=LONDON)
    assert browser.get("/").status_code == 200
    incident = raise_about(tenant_a, bob)
    answer = respond(tenant_a, owner_a, incident, "end_sessions")
    assert answer.status_code == 302
    assert browser.get("/").status_code == 302  # to the log-in page
    with schema_context(tenant_a.schema_name):
        done = IncidentResponse.objects.get(incident=incident)
        assert done.action == "end_sessions" and done.actor_id == owner_a.pk and "Ended 1 session" in done.outcome
        assert Event.objects.filter(type="security.incident_responded").exists()
        assert LogEntry.objects.get_for_model(IncidentResponse).filter(object_pk=str(done.pk)).exists()


def test_a_locked_account_cannot_log_in_until_unlocked(tenant_a, owner_a, bob):
    browser = log_in(tenant_a, bob.email, ip=LONDON)
    incident = raise_about(tenant_a, bob)
    assert respond(tenant_a, owner_a, incident, "lock_account").status_code == 302
    bob.refresh_from_db()
    assert not bob.is_active
    assert browser.get("/").status_code == 302
    assert not logged_in(log_in(tenant_a, bob.email, ip=LONDON, password=PASSWORD))
    page = client_for(tenant_a, owner_a).get(f"/security-incidents/{incident.pk}/").content.decode()
    assert 'data-action="unlock_account"' in page and 'data-action="lock_account"' not in page
    assert respond(tenant_a, owner_a, incident, "unlock_account").status_code == 302
    assert logged_in(log_in(tenant_a, bob.email, ip=LONDON, password=PASSWORD))


def test_a_revoked_key_gets_401(tenant_a, owner_a):
    key, raw = make_key(tenant_a, name="Leaky")
    assert api_client(tenant_a, raw).get("/api/v1/members/", REMOTE_ADDR="192.0.2.1").status_code == 200
    assert api_client(tenant_a, raw).get("/api/v1/members/", REMOTE_ADDR="198.51.100.1").status_code == 200
    with schema_context(tenant_a.schema_name):
        incident = Incident.objects.get(rule="api_key_new_network")
    assert respond(tenant_a, owner_a, incident, "revoke_key").status_code == 302
    refused = api_client(tenant_a, raw).get("/api/v1/members/", REMOTE_ADDR="192.0.2.1")
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    again = respond(tenant_a, owner_a, incident, "revoke_key")
    assert again.status_code == 400 and "does not apply" in again.content.decode()


def test_a_second_factor_is_required_at_the_next_log_in(tenant_a, owner_a, bob):
    incident = raise_about(tenant_a, bob)
    assert respond(tenant_a, owner_a, incident, "require_mfa").status_code == 302
    browser = log_in(tenant_a, bob.email, ip=LONDON)
    assert logged_in(browser)
    home = browser.get("/")
    assert home.status_code == 302 and home["Location"] == "/security/"  # add a factor first
    assert browser.get("/security/").status_code == 200
    other = client_for(tenant_a, owner_a).get("/")
    assert other.status_code == 200  # nobody else is held to it


def test_automatic_responses_run_when_the_rule_raises(tenant_a, owner_a, bob):
    admin = client_for(tenant_a, owner_a)
    saved = admin.post("/security-incidents/rules/new_device/", {"enabled": "on", "auto_actions": ["end_sessions"]})
    assert saved.status_code == 302
    log_in(tenant_a, bob.email, ip=LONDON)
    first = log_in(tenant_a, bob.email, ip=LONDON)
    assert logged_in(first)
    suspicious = log_in(tenant_a, bob.email, ip=LONDON, ua=FIREFOX_WINDOWS)
    assert not logged_in(suspicious)  # its own log-in ended with the others
    assert first.get("/").status_code == 302
    with schema_context(tenant_a.schema_name):
        done = IncidentResponse.objects.get()
    assert done.automatic and done.action == "end_sessions" and done.actor_id is None


def test_a_rule_refuses_an_automatic_response_that_does_not_apply(tenant_a, owner_a):
    answer = client_for(tenant_a, owner_a).post(
        "/security-incidents/rules/api_key_new_network/", {"enabled": "on", "auto_actions": ["lock_account"]}
    )
    assert answer.status_code == 400 and "is not one of the available choices" in answer.content.decode()
    assert client_for(tenant_a, owner_a).post("/security-incidents/rules/nonsense/", {}).status_code == 404


def test_bad_input_is_refused_with_the_reason(tenant_a, owner_a, bob):
    admin = client_for(tenant_a, owner_a)
    assert admin.get("/security-incidents/999999/").status_code == 404
    assert admin.post("/security-incidents/999999/respond/", {"action": "end_sessions"}).status_code == 404
    incident = raise_about(tenant_a, bob)
    bogus = respond(tenant_a, owner_a, incident, "launch_missiles")
    assert bogus.status_code == 400 and "There is no such response" in bogus.content.decode()
    wrong = respond(tenant_a, owner_a, incident, "revoke_key")
    assert wrong.status_code == 400 and "does not apply to this incident" in wrong.content.decode()
    owner_incident = raise_about(tenant_a, owner_a)
    alone = respond(tenant_a, owner_a, owner_incident, "lock_account")
    assert alone.status_code == 400 and "You cannot lock your own account" in alone.content.decode()
    closed = admin.post(f"/security-incidents/{incident.pk}/close/", {"status": "dismissed", "note": "His new laptop"})
    assert closed.status_code == 302
    late = respond(tenant_a, owner_a, incident, "end_sessions")
    assert late.status_code == 400 and "is dismissed: responses are for open incidents" in late.content.decode()
    twice = admin.post(f"/security-incidents/{incident.pk}/close/", {"status": "resolved"})
    assert twice.status_code == 400 and "already dismissed" in twice.content.decode()
    odd = admin.post(f"/security-incidents/{owner_incident.pk}/close/", {"status": "open"})
    assert odd.status_code == 400


def test_an_admin_cannot_lock_an_owner_and_the_only_owner_is_never_locked(tenant_a, owner_a, bob):
    admin = UserFactory(email="ada@alpha.example.com")
    MembershipFactory(tenant=tenant_a, user=admin, role="admin")
    incident = raise_about(tenant_a, owner_a)
    refused = respond(tenant_a, admin, incident, "lock_account")
    assert refused.status_code == 403 and "Only an owner can lock an owner" in refused.content.decode()
    with tenant_context(tenant_a):
        from apps.security.services import incident_respond

        with pytest.raises(Exception, match="the only owner"):
            incident_respond(tenant=tenant_a, incident=incident, action="lock_account", automatic=True)
    owner_a.refresh_from_db()
    assert owner_a.is_active


def test_admins_are_told_in_app_and_by_e_mail_for_serious_incidents(tenant_a, owner_a, bob, run_now):
    with tenant_context(tenant_a):
        raise_about(tenant_a, bob)  # low
        raise_about(tenant_a, bob, rule="impossible_travel")  # high
        run_now(events_dispatch_new)
        told = list(Notification.objects.filter(user=owner_a).values_list("event_type", flat=True))
    assert sorted(told) == ["security.incident_raised", "security.serious_incident_raised"]
    serious = [m for m in mail.outbox if owner_a.email in m.to]
    assert len(serious) == 1 and "Impossible travel" in serious[0].subject + serious[0].body


def test_members_and_other_tenants_never_see_the_incidents(tenant_a, tenant_b, owner_a, owner_b, bob):
    incident = raise_about(tenant_a, bob)
    b = client_for(tenant_b, owner_b)
    assert b.get(f"/security-incidents/{incident.pk}/").status_code == 404
    assert b.post(f"/security-incidents/{incident.pk}/respond/", {"action": "end_sessions"}).status_code == 404
    assert b.post(f"/security-incidents/{incident.pk}/close/", {"status": "resolved"}).status_code == 404
    listing = b.get("/security-incidents/")
    assert listing.status_code == 200 and bob.email.encode() not in listing.content
    assert b.get("/security-incidents/?_export=csv").status_code == 200
    member = client_for(tenant_a, bob)
    for path in ("/security-incidents/", f"/security-incidents/{incident.pk}/", "/security-incidents/rules/"):
        assert member.get(path).status_code == 403
    assert member.post(f"/security-incidents/{incident.pk}/respond/", {"action": "end_sessions"}).status_code == 403
    assert client_for(tenant_a).get("/security-incidents/").status_code == 302  # to the log-in page


def test_the_pages_show_incidents_in_words(tenant_a, owner_a, bob, geoip):
    incident = raise_about(tenant_a, bob)
    admin = client_for(tenant_a, owner_a)
    listing = admin.get("/security-incidents/").content.decode()
    assert "Log-in from a new device" in listing and f'data-incident="{incident.pk}"' in listing
    assert "No GeoIP database" not in listing
    detail = admin.get(f"/security-incidents/{incident.pk}/").content.decode()
    assert "Bob Brown (bob@alpha.example.com)" in detail and 'data-confirm="End their sessions for bob@' in detail
    rules = admin.get("/security-incidents/rules/").content.decode()
    assert 'data-rule="impossible_travel"' in rules and "Needs a GeoIP database" not in rules
    csv = b"".join(admin.get("/security-incidents/?_export=csv").streaming_content).decode()
    assert "new device" in csv and "low" in csv


def test_responses_stay_within_the_organisation(tenant_a, owner_a, tenant_b, bob):
    """One account serves every organisation: A ends only A's sessions, and does not lock an
    account that also belongs to B; an account A did not lock is not A's to unlock."""
    MembershipFactory(tenant=tenant_b, user=bob, role="member")
    in_a, in_b = log_in(tenant_a, bob.email, ip=LONDON), log_in(tenant_b, bob.email, ip=LONDON)
    incident = raise_about(tenant_a, bob)
    assert respond(tenant_a, owner_a, incident, "end_sessions").status_code == 302
    assert in_a.get("/").status_code == 302 and in_b.get("/").status_code == 200  # B's session stays
    refused = client_for(tenant_a, owner_a).post(
        f"/security-incidents/{incident.pk}/respond/", {"action": "lock_account"}, follow=True
    )
    assert b"also belongs to 1 other organisation" in refused.content
    bob.refresh_from_db()
    assert bob.is_active
    unlock = client_for(tenant_a, owner_a).post(
        f"/security-incidents/{incident.pk}/respond/", {"action": "unlock_account"}, follow=True
    )
    assert unlock.status_code == 400 and b"does not apply to this incident" in unlock.content


def test_a_required_second_factor_holds_with_detection_off(tenant_a, owner_a, bob, settings):
    incident = raise_about(tenant_a, bob)
    assert respond(tenant_a, owner_a, incident, "require_mfa").status_code == 302
    settings.HUB_THREAT_DETECTION = False
    browser = log_in(tenant_a, bob.email, ip=LONDON)
    assert browser.get("/").status_code == 302  # to adding a second factor, before anything else
