"""Consent: purposes in the words people see (new words, new version), grants and withdrawals
recorded by integrators (API key) and by the banner (project key, from allowed origins only), read
back as the person's consent now with its history; bad input named by field; tenants apart."""

import pytest
from django_tenants.utils import schema_context

from apps.compliance import consent
from apps.compliance.models import ConsentPurpose, ConsentRecord
from apps.events.models import Event
from apps.identity.models import Membership
from tests.analytics.conftest import host_client, post_json, project_key
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

CONSENT, RECORD, PURPOSES = (
    "/api/v1/compliance/consent/",
    "/api/v1/compliance/consent/banner/record",
    "/api/v1/compliance/consent/banner/purposes",
)


def purposes(tenant, owner):
    actor = Membership.objects.get(tenant=tenant, user=owner)
    with schema_context(tenant.schema_name):
        consent.purpose_save(
            tenant=tenant, actor=actor, key="necessary", name="Necessary", description="Keeps you signed in.",
            required=True,
        )  # fmt: skip
        return consent.purpose_save(
            tenant=tenant, actor=actor, key="analytics", name="Product analytics", description="We count page views."
        )


def test_a_purpose_is_saved_from_the_page_and_new_words_make_a_new_version(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    form = {"key": "marketing", "name": "Marketing e-mails", "description": "News, once a month.", "active": "on"}
    assert client.post("/compliance/consent/", form).status_code == 302
    assert client.post("/compliance/consent/", {**form, "description": "News, once a week."}).status_code == 302
    with schema_context(tenant_a.schema_name):
        purpose = ConsentPurpose.objects.get(key="marketing")
        assert purpose.version == 2 and purpose.description == "News, once a week."
        assert Event.objects.filter(type="compliance.consent_purpose_changed").count() == 2
    bad = client.post("/compliance/consent/", {**form, "key": "Not a key!"})
    assert bad.status_code == 400 and b"Enter a valid" in bad.content
    page = client.get("/compliance/consent/")
    assert b'data-purpose="marketing"' in page.content and b"consent-banner.js" in page.content


def test_an_integrator_records_and_reads_a_person_s_consent(tenant_a, owner_a):
    purposes(tenant_a, owner_a)
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["compliance:write"])[1])
    given = post_json(api, CONSENT, {"subject": "user-42", "choices": {"analytics": True}, "source": "signup form"})
    assert given.status_code == 201, given.content
    assert given.json()["consent"]["analytics"]["granted"] is True
    post_json(api, CONSENT, {"subject": "user-42", "choices": {"analytics": False}})
    now = api.get(CONSENT, {"subject": "user-42"}).json()
    assert now["consent"]["analytics"]["granted"] is False and now["consent"]["analytics"]["method"] == "api"
    assert [h["granted"] for h in now["history"]] == [False, True]  # newest first
    assert now["history"][1]["text_shown"] == "We count page views." and now["history"][1]["source"] == "signup form"
    assert api.get(CONSENT, {"subject": "someone-else"}).json()["consent"] == {}
    listed = api.get("/api/v1/compliance/consent/purposes/").json()
    assert [p["key"] for p in listed] == ["necessary", "analytics"]
    # The words change: the earlier grant is to an older version.
    with schema_context(tenant_a.schema_name):
        consent.purpose_save(tenant=tenant_a, actor=None, key="analytics", name="Product analytics",
                             description="We count page views and clicks.")  # fmt: skip
    assert api.get(CONSENT, {"subject": "user-42"}).json()["consent"]["analytics"]["current_version"] is False


def test_bad_consent_is_refused_naming_the_field_and_nothing_is_kept(tenant_a, owner_a):
    purposes(tenant_a, owner_a)
    api = api_client(tenant_a, make_key(tenant_a, scope_list=["compliance:write"])[1])
    unknown = post_json(api, CONSENT, {"subject": "u1", "choices": {"analytics": True, "ads": True}})
    assert unknown.status_code == 422 and unknown["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in unknown.json()["errors"]] == ["choices.ads"]
    odd = post_json(api, CONSENT, {"subject": "u1", "choices": {"A B": False, "ads\u0000": True}})
    assert odd.status_code == 422 and [e["field"] for e in odd.json()["errors"]] == ["choices.ads\\u0000"]
    spaced = post_json(api, CONSENT, {"subject": "u1", "choices": {"A B": False}})
    assert spaced.status_code == 422 and [e["field"] for e in spaced.json()["errors"]] == ["choices.A B"]
    withdrawn = post_json(api, CONSENT, {"subject": "u1", "choices": {"necessary": False}})
    assert withdrawn.status_code == 422 and "cannot be withdrawn" in withdrawn.json()["errors"][0]["message"]
    empty = post_json(api, CONSENT, {"subject": "", "choices": {}})
    assert empty.status_code == 400 and {e["field"] for e in empty.json()["errors"]} == {"subject"}
    nothing = post_json(api, CONSENT, {"subject": " x ", "choices": {}})
    assert nothing.status_code == 422 and [e["field"] for e in nothing.json()["errors"]] == ["choices"]
    assert api.get(CONSENT).status_code == 400
    reader = api_client(tenant_a, make_key(tenant_a, scope_list=["flags:read"])[1])
    assert post_json(reader, CONSENT, {"subject": "u1", "choices": {"analytics": True}}).status_code == 403
    with schema_context(tenant_a.schema_name):
        assert not ConsentRecord.objects.exists()


def test_the_banner_records_with_the_project_key_from_allowed_origins_only(tenant_a, owner_a, tenant_b):
    purposes(tenant_a, owner_a)
    _, raw = project_key(tenant_a, origins=["https://www.alpha.example"])
    site = host_client(tenant_a)
    offered = site.get(PURPOSES, {"api_key": raw}, HTTP_ORIGIN="https://www.alpha.example")
    assert offered.status_code == 200 and offered["Access-Control-Allow-Origin"] == "https://www.alpha.example"
    assert [p["key"] for p in offered.json()] == ["necessary", "analytics"]
    body = {"api_key": raw, "subject": "visitor-1", "choices": {"necessary": True, "analytics": False}}
    recorded = post_json(site, RECORD, body, HTTP_ORIGIN="https://www.alpha.example", HTTP_USER_AGENT="Firefox")
    assert recorded.status_code == 201 and recorded["Access-Control-Allow-Origin"] == "https://www.alpha.example"
    with schema_context(tenant_a.schema_name):
        record = ConsentRecord.objects.get(subject="visitor-1", purpose__key="analytics")
        assert (record.granted, record.method, record.user_agent) == (False, "banner", "Firefox")
    elsewhere = post_json(site, RECORD, body, HTTP_ORIGIN="https://evil.example")
    assert elsewhere.status_code == 403
    assert post_json(site, RECORD, {**body, "api_key": "phc_nope_nope"}).status_code == 401
    assert post_json(site, RECORD, body).status_code == 403  # no Origin: not from a page of the site
    bad = post_json(site, RECORD, {**body, "choices": {"ads": True}}, HTTP_ORIGIN="https://www.alpha.example")
    assert bad.status_code == 422 and bad["Access-Control-Allow-Origin"] == "https://www.alpha.example"
    preflight = site.options(RECORD, HTTP_ORIGIN="https://www.alpha.example")
    assert preflight.status_code == 204 and "POST" in preflight["Access-Control-Allow-Methods"]
    # Another tenant's host does not know this key, nor this person.
    assert post_json(host_client(tenant_b), RECORD, body, HTTP_ORIGIN="https://www.alpha.example").status_code == 401
    with schema_context(tenant_b.schema_name):
        assert not ConsentRecord.objects.exists()


def test_the_page_shows_one_person_s_consent_and_another_tenant_sees_none(tenant_a, owner_a, tenant_b, owner_b):
    purposes(tenant_a, owner_a)
    with schema_context(tenant_a.schema_name):
        consent.consent_record(subject="ann@example.com", choices={"analytics": True}, method="dashboard")
    page = client_for(tenant_a, owner_a).get("/compliance/consent/", {"subject": "ann@example.com"})
    assert page.status_code == 200 and b"Granted" in page.content and b"Recorded by an admin" in page.content
    other = client_for(tenant_b, owner_b).get("/compliance/consent/", {"subject": "ann@example.com"})
    assert b"This person never answered" in other.content and b"Product analytics" not in other.content
    b_api = api_client(tenant_b, make_key(tenant_b, scope_list=["compliance:read"])[1])
    assert b_api.get(CONSENT, {"subject": "ann@example.com"}).json()["consent"] == {}


def test_the_banner_is_rate_limited_per_address(tenant_a, owner_a, settings):
    purposes(tenant_a, owner_a)
    settings.HUB_API_RATE_LIMITS = {plan: 3 for plan in settings.HUB_API_RATE_LIMITS}
    _, raw = project_key(tenant_a, origins=["https://www.alpha.example"])
    site = host_client(tenant_a)
    body = {"api_key": raw, "subject": "visitor-9", "choices": {"analytics": True}}
    answers = [
        post_json(site, RECORD, body, HTTP_ORIGIN="https://www.alpha.example", REMOTE_ADDR="203.0.113.9").status_code
        for _ in range(5)
    ]
    assert answers[:3] == [201, 201, 201] and answers[3:] == [429, 429]
    other = post_json(site, RECORD, body, HTTP_ORIGIN="https://www.alpha.example", REMOTE_ADDR="203.0.113.10")
    assert other.status_code == 201
