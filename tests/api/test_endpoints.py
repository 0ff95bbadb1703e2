"""The foundation's endpoints: the organisation, members, invitations, audit log, API keys, usage."""

from datetime import UTC, datetime, timedelta

import pytest
from auditlog.models import LogEntry
from django.core import mail
from django_tenants.utils import schema_context

from apps.api.models import ApiKey, ApiKeyUsage
from apps.api.services import usage_flush
from apps.events.models import Event
from apps.identity.models import Invitation, Membership
from tests.factories import MembershipFactory

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db
JSON = "application/json"


def _key_for(tenant, role, scope_list=None):
    member = MembershipFactory(tenant=tenant, role=role)
    if role in ("viewer", "member"):
        # Only admins create keys; a key made by an admin who is later demoted acts as the new role.
        Membership.objects.filter(pk=member.pk).update(role="admin")
        key, raw = make_key(tenant, user=member.user, scope_list=scope_list)
        Membership.objects.filter(pk=member.pk).update(role=role)
        member.refresh_from_db()
        member.save()
        return member, raw
    return member, make_key(tenant, user=member.user, scope_list=scope_list)[1]


# --- tenant ----------------------------------------------------------------------------------


def test_tenant_read_by_any_member_update_by_admins(tenant_a):
    _, viewer_raw = _key_for(tenant_a, "viewer")
    viewer = api_client(tenant_a, viewer_raw)
    body = viewer.get("/api/v1/tenant/").json()
    assert body == {
        "slug": "alpha",
        "name": tenant_a.name,
        "plan": "free",
        "status": "active",
        "created": body["created"],
        "url": "http://alpha.localhost:8000/",
    }
    assert viewer.patch("/api/v1/tenant/", {"name": "Nope"}, content_type=JSON).status_code == 403
    admin, admin_raw = _key_for(tenant_a, "admin")
    response = api_client(tenant_a, admin_raw).patch("/api/v1/tenant/", {"name": "Alpha Renamed"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["name"] == "Alpha Renamed"
    tenant_a.refresh_from_db()
    assert tenant_a.name == "Alpha Renamed"
    with schema_context(tenant_a.schema_name):  # the event names who did it (not notified of it)
        event = Event.objects.get(type="organisation.settings_changed")
        assert event.actor_id == admin.user_id


def test_tenant_read_only_fields_are_ignored_and_blank_name_refused(api_a, tenant_a):
    response = api_a.patch("/api/v1/tenant/", {"plan": "enterprise", "slug": "hijack"}, content_type=JSON)
    assert response.status_code == 200
    tenant_a.refresh_from_db()
    assert (tenant_a.plan, tenant_a.slug) == ("free", "alpha")
    bad = api_a.patch("/api/v1/tenant/", {"name": ""}, content_type=JSON)
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "name"


# --- members ---------------------------------------------------------------------------------


def test_members_list_filter_order_and_cursor_pagination(api_a, tenant_a):
    for i in range(25):
        MembershipFactory(tenant=tenant_a, role="viewer" if i % 2 else "member", user__email=f"m{i:02}@example.com")
    first = api_a.get("/api/v1/members/?ordering=id").json()
    assert len(first["results"]) == 20
    assert first["previous"] is None and first["next"]
    second = api_a.get(first["next"].split("testserver")[-1].split("localhost")[-1]).json()
    ids = [m["id"] for m in first["results"] + second["results"]]
    assert len(ids) == 26 and ids == sorted(ids)
    viewers = api_a.get("/api/v1/members/?role=viewer&page_size=100").json()["results"]
    assert len(viewers) == 12 and {m["role"] for m in viewers} == {"viewer"}
    found = api_a.get("/api/v1/members/?email=m07@").json()["results"]
    assert [m["email"] for m in found] == ["m07@example.com"]
    assert api_a.get("/api/v1/members/?ordering=password").status_code == 400
    assert api_a.get("/api/v1/members/?page_size=1000").status_code == 400
    assert api_a.get("/api/v1/members/?cursor=garbage").status_code == 400


def test_a_well_formed_cursor_the_list_did_not_issue_is_a_404(api_a):
    from base64 import b64encode

    def cursor(text):
        return b64encode(text.encode()).decode()

    for ordering, crafted in [
        ("id", "p=abc"),  # not an id
        ("id", "o=x"),  # not an offset
        ("created", "p=yesterday"),
        ("role", "p=a%00b"),
    ]:
        response = api_a.get("/api/v1/members/", {"ordering": ordering, "cursor": cursor(crafted)})
        assert response.status_code == 404, (ordering, crafted)
        assert "cursor" in response.json()["detail"]
    far = cursor("p=9999-12-31 23:59:59-23:59")  # past the calendar once in UTC: no 500
    assert api_a.get("/api/v1/members/", {"ordering": "-created", "cursor": far}).status_code == 200
    assert api_a.get("/api/v1/members/?cursor=not*base64").status_code == 400


def test_one_object_ignores_the_lists_filters(api_a, tenant_a, owner_a):
    """Filters are declared on lists only: on one object they are not applied, nor refused."""
    member_id = tenant_a.memberships.get(user=owner_a).pk
    assert api_a.get(f"/api/v1/members/{member_id}/?role=emperor").status_code == 200
    assert api_a.get(f"/api/v1/members/{member_id}/?role=viewer").status_code == 200


def test_date_times_at_the_edges_of_the_calendar_are_accepted(api_a):
    for query in ("since=0001-01-01T00:00:00%2B01:00", "until=9999-12-31T23:59:59-23:59"):
        assert api_a.get(f"/api/v1/audit-log/?{query}").status_code == 200, query


def test_change_role_and_remove_member(api_a, tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    response = api_a.patch(f"/api/v1/members/{member.pk}/", {"role": "admin"}, content_type=JSON)
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    member.refresh_from_db()
    assert member.role == "admin"
    assert api_a.delete(f"/api/v1/members/{member.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_last_owner_cannot_be_demoted_or_removed(api_a, tenant_a, owner_a):
    """Well-formed requests that a rule refuses: 422, naming the field where there is one."""
    owner = tenant_a.memberships.get(user=owner_a)
    body = api_a.patch(f"/api/v1/members/{owner.pk}/", {"role": "admin"}, content_type=JSON).json()
    assert body["status"] == 422 and body["errors"][0]["field"] == "role"
    removed = api_a.delete(f"/api/v1/members/{owner.pk}/")
    assert removed.status_code == 422
    assert removed.json()["detail"] == "You are the only owner. Make someone else an owner before you leave."


def test_patch_without_a_role_changes_nothing(api_a, tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    response = api_a.patch(f"/api/v1/members/{member.pk}/", {}, content_type=JSON)
    assert response.status_code == 200 and response.json()["role"] == "member"


def test_admin_cannot_touch_owners(tenant_a, owner_a):
    _, raw = _key_for(tenant_a, "admin")
    owner = tenant_a.memberships.get(user=owner_a)
    client = api_client(tenant_a, raw)
    assert client.patch(f"/api/v1/members/{owner.pk}/", {"role": "viewer"}, content_type=JSON).status_code == 403
    assert client.delete(f"/api/v1/members/{owner.pk}/").status_code == 403


def test_member_cannot_change_roles(tenant_a):
    _, raw = _key_for(tenant_a, "member")
    target = MembershipFactory(tenant=tenant_a, role="viewer")
    response = api_client(tenant_a, raw).patch(f"/api/v1/members/{target.pk}/", {"role": "member"}, content_type=JSON)
    assert response.status_code == 403


# --- invitations -----------------------------------------------------------------------------


def test_invite_list_and_withdraw(api_a, tenant_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_a.post("/api/v1/invitations/", {"email": "New@Example.com", "role": "admin"}, content_type=JSON)
    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "new@example.com" and created["role"] == "admin"
    assert response["Location"].endswith(f"/api/v1/invitations/{created['id']}/")
    assert mail.outbox[-1].to == ["new@example.com"]
    listed = api_a.get("/api/v1/invitations/").json()["results"]
    assert [i["id"] for i in listed] == [created["id"]]
    assert api_a.get(f"/api/v1/invitations/{created['id']}/").json()["email"] == "new@example.com"
    assert api_a.delete(f"/api/v1/invitations/{created['id']}/").status_code == 204
    assert Invitation.objects.get(pk=created["id"]).revoked_at is not None
    assert api_a.get("/api/v1/invitations/").json()["results"] == []


def test_admin_cannot_invite_an_owner(tenant_a):
    _, raw = _key_for(tenant_a, "admin")
    response = api_client(tenant_a, raw).post(
        "/api/v1/invitations/", {"email": "boss@example.com", "role": "owner"}, content_type=JSON
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"


def test_viewer_cannot_see_invitations(tenant_a):
    _, raw = _key_for(tenant_a, "viewer")
    assert api_client(tenant_a, raw).get("/api/v1/invitations/").status_code == 403


# --- audit log -------------------------------------------------------------------------------


def test_audit_log_records_api_changes_with_the_actor_and_filters(api_a, tenant_a, owner_a):
    api_a.patch("/api/v1/tenant/", {"name": "Audited"}, content_type=JSON)
    member = MembershipFactory(tenant=tenant_a, role="member")
    api_a.patch(f"/api/v1/members/{member.pk}/", {"role": "viewer"}, content_type=JSON)

    entries = api_a.get("/api/v1/audit-log/?object_type=tenancy.tenant&action=update").json()["results"]
    renamed = next(e for e in entries if e["changes"].get("name", [None, None])[1] == "Audited")
    assert renamed["actor_id"] == owner_a.pk and renamed["actor_email"] == owner_a.email
    assert renamed["object_pk"] == str(tenant_a.pk)

    by_object = api_a.get(f"/api/v1/audit-log/?object_type=identity.membership&object_pk={member.pk}").json()
    assert "update" in {e["action"] for e in by_object["results"]}
    assert all(e["object_pk"] == str(member.pk) for e in by_object["results"])
    by_actor = api_a.get(f"/api/v1/audit-log/?actor={owner_a.pk}").json()["results"]
    assert by_actor and all(e["actor_id"] == owner_a.pk for e in by_actor)
    by_email = api_a.get(f"/api/v1/audit-log/?actor_email={owner_a.email.upper()}").json()["results"]
    assert len(by_email) == len(by_actor)

    now = datetime.now(UTC)
    since = (now - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    assert api_a.get("/api/v1/audit-log/", {"since": since}).json()["results"]
    # A window before the tenant existed (tests before this one may have committed entries in any
    # window of the last minutes).
    before = {"since": "2001-01-01T00:00:00Z", "until": "2001-01-02T00:00:00Z"}
    assert api_a.get("/api/v1/audit-log/", before).json()["results"] == []
    assert api_a.get("/api/v1/audit-log/", {"since": since, "until": now.isoformat()}).json()["results"]
    entry_id = renamed["id"]
    assert api_a.get(f"/api/v1/audit-log/{entry_id}/").json()["id"] == entry_id
    for bad in ("action=explode", "since=yesterday", "actor=abc", "until="):
        response = api_a.get(f"/api/v1/audit-log/?{bad}")
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["field"] == bad.split("=")[0]


def test_audit_log_is_for_admins(tenant_a):
    _, raw = _key_for(tenant_a, "member")
    assert api_client(tenant_a, raw).get("/api/v1/audit-log/").status_code == 403


def test_audit_log_has_no_write_methods(api_a):
    with schema_context("public"):
        entry_count = LogEntry.objects.count()
    assert api_a.post("/api/v1/audit-log/", {}, content_type=JSON).status_code == 405
    with schema_context("public"):
        assert LogEntry.objects.count() == entry_count


# --- API keys through the API ----------------------------------------------------------------


def test_create_list_and_revoke_keys_through_the_api(api_a, tenant_a):
    response = api_a.post("/api/v1/api-keys/", {"name": "Zapier", "scopes": ["identity:read"]}, content_type=JSON)
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    created = response.json()
    raw = created["key"]
    assert raw.startswith(created["prefix"] + "_")
    # The secret is shown once: never again in a list or detail.
    listed = api_a.get("/api/v1/api-keys/").json()["results"]
    assert all("key" not in k for k in listed)
    assert raw not in api_a.get(f"/api/v1/api-keys/{created['id']}/").content.decode()
    new_client = api_client(tenant_a, raw)
    assert new_client.get("/api/v1/members/").status_code == 200
    revoked = api_a.post(f"/api/v1/api-keys/{created['id']}/revoke/")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert new_client.get("/api/v1/members/").status_code == 401
    assert api_a.get("/api/v1/api-keys/?status=revoked").json()["results"][0]["id"] == created["id"]


def test_key_creation_validates_each_field(api_a):
    response = api_a.post(
        "/api/v1/api-keys/",
        {"name": "", "scopes": ["nope:read"], "expires_at": "2001-01-01T00:00:00Z"},
        content_type=JSON,
    )
    body = response.json()
    assert response.status_code == 400
    assert {e["field"].split(".")[0] for e in body["errors"]} >= {"name", "scopes"}


def test_keys_are_for_admins_only(tenant_a):
    _, raw = _key_for(tenant_a, "member", scope_list=["api:write", "identity:read"])
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/api-keys/").status_code == 403
    assert client.post("/api/v1/api-keys/", {"name": "x", "scopes": ["api:read"]}, content_type=JSON).status_code == 403


# --- usage -----------------------------------------------------------------------------------


def test_usage_is_metered_per_key_per_day_and_flushed(tenant_a, api_a, key_a):
    key, raw = key_a
    other_key, other_raw = make_key(tenant_a, name="other")
    for _ in range(3):
        api_a.get("/api/v1/tenant/")
    api_client(tenant_a, other_raw).get("/api/v1/tenant/")
    today = datetime.now(UTC).date().isoformat()

    rows = api_a.get("/api/v1/usage/").json()  # this call counts too
    by_key = {r["key_id"]: r for r in rows}
    assert by_key[key.pk]["calls"] == 4 and by_key[key.pk]["day"] == today
    assert by_key[other_key.pk]["calls"] == 1
    assert by_key[key.pk]["key_prefix"] == key.prefix

    with schema_context(tenant_a.schema_name):
        assert usage_flush(schema=tenant_a.schema_name) == 5
        assert ApiKeyUsage.objects.get(key=key).count == 4
        assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
        assert usage_flush(schema=tenant_a.schema_name) == 0  # nothing counted twice
        from auditlog.models import LogEntry

        used = LogEntry.objects.filter(changes_text="api_key.used", object_pk=str(key.pk))
        assert used.count() == 1 and used.get().additional_data["day"] == today  # the day's first use, once
    rows = api_a.get(f"/api/v1/usage/?key={key.pk}").json()
    assert rows == [{"key_id": key.pk, "key_prefix": key.prefix, "day": today, "calls": 5}]
    assert api_a.get("/api/v1/usage/?since=2020-01-01&until=2019-01-01").status_code == 422
    assert api_a.get("/api/v1/usage/?since=2000-01-01").status_code == 422  # more than a year
    assert api_a.get("/api/v1/usage/?since=yesterday").status_code == 400
    # The default 30 days before the first day of the calendar: no overflow, just no rows.
    assert api_a.get("/api/v1/usage/?until=0001-01-05").json() == []


def test_session_calls_are_rate_limited_but_not_metered_as_a_key(tenant_a, owner_a):
    from tests.conftest import client_for

    response = client_for(tenant_a, owner_a).get("/api/v1/tenant/")
    assert response["RateLimit-Limit"]
    with schema_context(tenant_a.schema_name):
        assert usage_flush(schema=tenant_a.schema_name) == 0


def test_beat_tasks_flush_usage_and_purge_idempotency_in_every_tenant(tenant_a, tenant_b, api_a, api_b, key_a):
    from django.utils import timezone

    from apps.api.models import IdempotencyRecord
    from apps.api.tasks import idempotency_purge_all, usage_flush_all

    api_a.get("/api/v1/tenant/")
    api_b.get("/api/v1/tenant/")
    api_a.post(
        "/api/v1/invitations/",
        {"email": "p@example.com", "role": "member"},
        content_type=JSON,
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert usage_flush_all() == 3
    with schema_context(tenant_b.schema_name):
        assert sum(ApiKeyUsage.objects.values_list("count", flat=True)) == 1
    with schema_context(tenant_a.schema_name):
        assert IdempotencyRecord.objects.count() == 1
        assert idempotency_purge_all() == 0
        IdempotencyRecord.objects.update(created=timezone.now() - timedelta(hours=25))
    assert idempotency_purge_all() == 1
