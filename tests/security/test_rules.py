"""Each detection rule fires on its pattern, not on normal traffic, and raises one incident per
rule, subject and window. Log-ins go through the real log-in form; API calls through the API
with a real key; deletions and new owners through the services and the event dispatch."""

import time

from django.core.files.base import ContentFile
from django_tenants.utils import schema_context, tenant_context

from apps.content import services as content
from apps.events.services import events_dispatch_new
from apps.identity.models import Membership
from apps.identity.services import membership_change_role
from apps.security import detect
from apps.security.models import Incident
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory

from .conftest import FIREFOX_WINDOWS, LONDON, MANCHESTER, SYDNEY, TOKYO, log_in, logged_in


def incidents(tenant, **filters) -> list[Incident]:
    with schema_context(tenant.schema_name):
        return list(Incident.objects.filter(**filters).order_by("id"))


def member(tenant, email=None, role="member"):
    user = UserFactory(email=email) if email else UserFactory()
    MembershipFactory(tenant=tenant, user=user, role=role)
    return user


# --- Brute force and credential stuffing -------------------------------------------------------------


def test_failures_for_many_accounts_from_one_address_raise_one_brute_force_incident(tenant_a):
    for i in range(6):
        log_in(tenant_a, f"guess{i}@alpha.example.com", ip="192.0.2.66", password="wrong")
    found = incidents(tenant_a, rule="brute_force")
    assert len(found) == 1
    incident = found[0]
    assert incident.severity == "high" and incident.ip_address == "192.0.2.66"
    assert "Failed log-ins for 5 different accounts from 192.0.2.66" in incident.summary


def test_a_few_failures_from_different_addresses_raise_nothing(tenant_a, owner_a):
    for i in range(4):
        log_in(tenant_a, f"typo{i}@alpha.example.com", ip="192.0.2.67", password="wrong")
    log_in(tenant_a, owner_a.email, ip="192.0.2.68", password="wrong")
    assert logged_in(log_in(tenant_a, owner_a.email, ip="192.0.2.68"))
    assert incidents(tenant_a) == [] or all(i.rule == "new_device" for i in incidents(tenant_a))


def test_failures_on_another_tenant_count_there_only(tenant_a, tenant_b):
    for i in range(3):
        log_in(tenant_a, f"spread{i}@example.com", ip="192.0.2.70", password="wrong")
        log_in(tenant_b, f"spread{i + 3}@example.com", ip="192.0.2.70", password="wrong")
    assert incidents(tenant_a, rule="brute_force") == [] and incidents(tenant_b, rule="brute_force") == []


def test_many_accounts_failing_from_many_addresses_is_credential_stuffing(tenant_a, settings):
    settings.HUB_THREAT_STUFFING_ACCOUNTS, settings.HUB_THREAT_STUFFING_ADDRESSES = 12, 4
    for i in range(12):
        log_in(tenant_a, f"leaked{i}@example.org", ip=f"198.51.100.{10 + i % 4}", password="wrong")
    found = incidents(tenant_a, rule="credential_stuffing")
    assert len(found) == 1 and found[0].severity == "critical"
    assert found[0].details["accounts"] == 12 and found[0].details["addresses"] == 4
    assert "12 different accounts failed to log in from 4 addresses" in found[0].summary
    assert incidents(tenant_a, rule="brute_force") == []  # 3 accounts from each address


def test_the_same_failures_among_many_successful_log_ins_are_not_stuffing():
    schema, now = "t_stuffing_share", time.time()
    for i in range(60):
        detect.login_succeeded(schema=schema, user_id=i, email=f"p{i}@x.example", ip=None, device="", now=now)
    found = [
        f
        for i in range(25)
        for f in detect.login_failed(schema=schema, email=f"f{i}@x.example", ip=f"198.51.100.{i % 13}", now=now)
    ]
    assert [f.rule for f in found] == []  # 25 of 85 failed: under half
    for i in range(40):
        found += detect.login_failed(schema=schema, email=f"g{i}@x.example", ip=f"198.51.100.{100 + i}", now=now)
    assert {f.rule for f in found} == {"credential_stuffing"}  # 65 of 125 failed: over half
    assert found[0].details["failure_share"] >= 0.5


# --- Places and devices ------------------------------------------------------------------------------


def test_a_log_in_from_a_new_country_and_an_impossible_journey(tenant_a, geoip):
    bob = member(tenant_a)
    assert logged_in(log_in(tenant_a, bob.email, ip=LONDON))
    assert logged_in(log_in(tenant_a, bob.email, ip=MANCHESTER))  # same country, 262 km: nothing
    assert incidents(tenant_a) == []
    assert logged_in(log_in(tenant_a, bob.email, ip=SYDNEY))
    new_country, travel = incidents(tenant_a, rule="new_country"), incidents(tenant_a, rule="impossible_travel")
    assert len(new_country) == 1 and new_country[0].severity == "medium" and new_country[0].user_id == bob.pk
    assert "from Sydney, Australia, a country they had not logged in from before" in new_country[0].summary
    assert len(travel) == 1 and travel[0].severity == "high"
    assert travel[0].details["from"] == "Manchester, United Kingdom" and travel[0].details["km"] > 16000
    log_in(tenant_a, bob.email, ip=SYDNEY)
    assert len(incidents(tenant_a)) == 2  # Sydney is known now; staying put is no journey


def test_a_long_journey_in_good_time_is_no_incident(geoip):
    schema, now = "t_travel", time.time()
    assert detect.login_succeeded(schema=schema, user_id=1, email="a@x.example", ip=LONDON, device="", now=now) == []
    later = detect.login_succeeded(
        schema=schema, user_id=1, email="a@x.example", ip=TOKYO, device="", now=now + 14 * 3600
    )
    assert [f.rule for f in later] == ["new_country"]  # 9,560 km in 14 hours: a flight
    sooner = detect.login_succeeded(
        schema=schema, user_id=1, email="a@x.example", ip=LONDON, device="", now=now + 15 * 3600
    )
    assert [f.rule for f in sooner] == ["impossible_travel"] and sooner[0].details["kmh"] > 9000


def test_without_a_geoip_database_the_place_rules_are_off_and_the_page_says_so(tenant_a, owner_a, settings):
    settings.HUB_GEOIP_DATABASE = ""
    bob = member(tenant_a)
    log_in(tenant_a, bob.email, ip=LONDON)
    log_in(tenant_a, bob.email, ip=SYDNEY)
    assert incidents(tenant_a) == []
    page = client_for(tenant_a, owner_a).get("/security-incidents/")
    assert page.status_code == 200 and b"No GeoIP database is configured" in page.content


def test_a_log_in_from_a_new_device(tenant_a):
    bob = member(tenant_a)
    log_in(tenant_a, bob.email, ip=LONDON)
    log_in(tenant_a, bob.email, ip=LONDON)
    assert incidents(tenant_a) == []
    log_in(tenant_a, bob.email, ip=LONDON, ua=FIREFOX_WINDOWS)
    found = incidents(tenant_a, rule="new_device")
    assert len(found) == 1 and found[0].severity == "low" and found[0].details["device"] == "Firefox on Windows"


# --- API keys ---------------------------------------------------------------------------------------


def test_an_api_key_used_from_a_new_network(tenant_a):
    key, raw = make_key(tenant_a, name="Nightly export")

    def call(ip):
        client = api_client(tenant_a, raw)
        assert client.get("/api/v1/members/", REMOTE_ADDR=ip).status_code == 200

    call("192.0.2.5")
    call("192.0.2.200")  # the same /24
    call("2001:db8:1:2::1")
    detect.forget_networks()  # another process: asks Redis, which remembers
    call("2001:db8:1:ffff::9")  # the same /48
    found = incidents(tenant_a, rule="api_key_new_network")
    assert [i.details["network"] for i in found] == ["2001:db8:1::/48"]
    assert found[0].api_key_id == key.pk and "“Nightly export” was used from 2001:db8:1::/48" in found[0].summary
    call("198.51.100.7")
    assert len(incidents(tenant_a, rule="api_key_new_network")) == 2


# --- Mass deletion and download; someone made owner -------------------------------------------------------


def test_mass_deletion_by_one_person(tenant_a, owner_a, settings):
    settings.HUB_THREAT_MASS_COUNT = 4
    with tenant_context(tenant_a):
        docs = [
            content.document_upload(
                tenant=tenant_a, actor=owner_a, fileobj=ContentFile(b"x", name=f"{i}.txt"), name=f"{i}.txt"
            )
            for i in range(5)
        ]
        for doc in docs[:3]:
            content.document_trash(tenant=tenant_a, actor=owner_a, document=doc)
        events_dispatch_new()
        assert not Incident.objects.filter(rule="mass_deletion").exists()
        for doc in docs[3:]:
            content.document_trash(tenant=tenant_a, actor=owner_a, document=doc)
        events_dispatch_new()
        found = list(Incident.objects.filter(rule="mass_deletion"))
    assert len(found) == 1 and found[0].user_id == owner_a.pk and found[0].severity == "high"


def test_mass_download_by_one_person(tenant_a, owner_a, settings):
    settings.HUB_THREAT_MASS_COUNT = 3
    with schema_context(tenant_a.schema_name):
        doc = content.document_upload(
            tenant=tenant_a, actor=owner_a, fileobj=ContentFile(b"data", name="a.txt"), name="a.txt"
        )
    client = client_for(tenant_a, owner_a)
    for _ in range(2):
        assert client.get(f"/content/documents/{doc.pk}/download/").status_code == 200
    assert client.get(f"/content/documents/{doc.pk}/download/", HTTP_RANGE="bytes=2-").status_code == 206
    assert incidents(tenant_a, rule="mass_download") == []  # a resumed download is the same download
    client.get(f"/content/documents/{doc.pk}/download/")
    found = incidents(tenant_a, rule="mass_download")
    assert len(found) == 1 and "downloaded 3 items" in found[0].summary


def test_someone_made_owner_is_privilege_escalation(tenant_a, owner_a):
    bob = member(tenant_a)
    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    with tenant_context(tenant_a):
        membership = Membership.objects.get(tenant=tenant_a, user=bob)
        membership_change_role(actor=actor, membership=membership, role="admin")
        events_dispatch_new()
        assert not Incident.objects.exists()
        membership_change_role(actor=actor, membership=membership, role="owner")
        events_dispatch_new()
        found = list(Incident.objects.all())
    assert len(found) == 1 and found[0].rule == "privilege_escalation" and found[0].user_id == bob.pk
    assert found[0].summary == f"{bob.email} was made an owner of the organisation by {owner_a.email}"


# --- Once per window ---------------------------------------------------------------------------------------


def test_an_incident_is_raised_once_per_rule_subject_and_window_even_if_redis_forgets(tenant_a):
    from apps.security.services import incident_raise

    finding = detect.Finding("brute_force", "ip:192.0.2.1", "Failed log-ins", time.time(), ip="192.0.2.1")
    with schema_context(tenant_a.schema_name):
        assert incident_raise(tenant=tenant_a, finding=finding) is not None
        assert incident_raise(tenant=tenant_a, finding=finding) is None
        detect.redis().flushdb()
        assert incident_raise(tenant=tenant_a, finding=finding) is None  # the database's unique key
        other = detect.Finding("brute_force", "ip:192.0.2.2", "Failed log-ins", time.time(), ip="192.0.2.2")
        assert incident_raise(tenant=tenant_a, finding=other) is not None
        assert Incident.objects.count() == 2


def test_a_rule_turned_off_raises_nothing(tenant_a, owner_a):
    page = client_for(tenant_a, owner_a).post("/security-incidents/rules/new_device/", {})
    assert page.status_code == 302
    bob = member(tenant_a)
    log_in(tenant_a, bob.email, ip=LONDON)
    log_in(tenant_a, bob.email, ip=LONDON, ua=FIREFOX_WINDOWS)
    assert incidents(tenant_a) == []


def test_detection_never_breaks_a_log_in(tenant_a, monkeypatch):
    def broken(**kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(detect, "login_succeeded", broken)
    bob = member(tenant_a)
    assert logged_in(log_in(tenant_a, bob.email, ip=LONDON))
