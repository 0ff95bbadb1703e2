"""API keys at their limits: names too long, no scopes, the cap per organisation, revoking twice,
keys made by members who may not hold them, and usage counted for a key that is gone."""

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_context

from apps.api import services
from apps.api.keycache import redis
from apps.api.metering import usage_key
from apps.api.models import ApiKey, ApiKeyUsage
from apps.identity.models import Membership
from tests.api.conftest import api_client, make_key
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def problem_fields(response) -> set[str]:
    assert response["Content-Type"].startswith("application/problem+json")
    return {error["field"] for error in response.json()["errors"]}


def test_a_key_name_over_100_characters_is_refused_naming_the_field(tenant_a, api_a):
    response = api_a.post("/api/v1/api-keys/", {"name": "x" * 101, "scopes": ["audit:read"]}, "application/json")
    assert response.status_code == 400
    assert problem_fields(response) == {"name"}


def test_a_key_needs_a_scope(tenant_a, owner_a):
    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    with schema_context(tenant_a.schema_name), pytest.raises(ValidationError) as refused:
        services.api_key_create(actor=actor, name="Nothing", scopes=" , ")
    assert refused.value.message_dict == {"scopes": ["Give the key at least one scope."]}


def test_an_organisation_has_at_most_100_active_keys(tenant_a, owner_a):
    actor = Membership.objects.get(tenant=tenant_a, user=owner_a)
    with schema_context(tenant_a.schema_name):
        for i in range(services.MAX_KEYS_PER_TENANT):
            services.api_key_create(actor=actor, name=f"key {i}", scopes=["audit:read"])
        with pytest.raises(ValidationError) as refused:
            services.api_key_create(actor=actor, name="one too many", scopes=["audit:read"])
        assert "at most 100 active keys. Revoke one first." in refused.value.message_dict["name"][0]
        # Revoking one makes room again.
        services.api_key_revoke(actor=actor, key=ApiKey.objects.first())
        services.api_key_create(actor=actor, name="room again", scopes=["audit:read"])


def test_members_below_admin_cannot_make_or_revoke_keys(tenant_a):
    member = MembershipFactory(tenant=tenant_a, role="member")
    key, _ = make_key(tenant_a)
    with schema_context(tenant_a.schema_name):
        with pytest.raises(PermissionDenied, match="does not allow managing API keys"):
            services.api_key_create(actor=member, name="mine", scopes=["audit:read"])
        with pytest.raises(PermissionDenied, match="does not allow managing API keys"):
            services.api_key_revoke(actor=member, key=key)
        assert ApiKey.objects.get(pk=key.pk).revoked_at is None


def test_revoking_twice_keeps_the_first_revocation_time(tenant_a, key_a, api_a):
    key, _ = make_key(tenant_a, name="short-lived")
    first = api_a.post(f"/api/v1/api-keys/{key.pk}/revoke/")
    assert first.status_code == 200 and first.json()["status"] == "revoked"
    again = api_a.post(f"/api/v1/api-keys/{key.pk}/revoke/")
    assert again.status_code == 200
    assert again.json()["revoked_at"] == first.json()["revoked_at"]


def test_the_command_refuses_a_member_who_may_not_hold_keys(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    with pytest.raises(CommandError, match=f"{viewer.user.email} is viewer; only owners and admins may hold API keys."):
        call_command("create_api_key", "alpha", "x", "--scopes", "audit:read", "--as", viewer.user.email)


def test_the_command_asks_for_a_member_when_the_tenant_has_no_owner(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    Membership.objects.filter(tenant=tenant_a, role="owner").update(role="member")
    with pytest.raises(CommandError, match="alpha has no owner; pass --as EMAIL."):
        call_command("create_api_key", "alpha", "x", "--scopes", "audit:read")
    out, err = StringIO(), StringIO()
    call_command(
        "create_api_key", "alpha", "x", "--scopes", "audit:read", "--as", admin.user.email, "--expires-days", "7",
        stdout=out, stderr=err,
    )  # fmt: skip
    raw = out.getvalue().strip()
    assert f"acting as {admin.user.email} (admin)" in err.getvalue()
    assert api_client(tenant_a, raw).get("/api/v1/audit-log/").status_code == 200
    with schema_context(tenant_a.schema_name):
        assert ApiKey.objects.get(name="x").expires_at is not None


def test_usage_of_a_key_that_is_gone_is_dropped_when_flushed(tenant_a):
    kept, _ = make_key(tenant_a, name="kept")
    today = datetime.now(UTC).date()
    name = usage_key(tenant_a.schema_name, today.isoformat())
    r = redis()
    r.hset(name, mapping={str(kept.pk): 3, "999999": 5, "0": 0})
    with schema_context(tenant_a.schema_name):
        assert services.usage_flush(schema=tenant_a.schema_name) == 3
        assert ApiKeyUsage.objects.get(key=kept, day=today).count == 3
        r.hset(name, str(kept.pk), 2)
        assert services.usage_flush(schema=tenant_a.schema_name) == 2
        assert ApiKeyUsage.objects.get(key=kept, day=today).count == 5  # added to the day's row
    assert r.hgetall(name) == {}  # nothing left for a later flush


def test_usage_of_one_key_counts_what_redis_still_holds_for_that_key_only(tenant_a, key_a, api_a):
    other, _ = make_key(tenant_a, name="other")
    today = datetime.now(UTC).date()
    redis().hset(usage_key(tenant_a.schema_name, today.isoformat()), mapping={str(other.pk): 4, "424242": 0})
    rows = api_a.get("/api/v1/usage/", {"key": other.pk}).json()
    assert rows == [{"key_id": other.pk, "key_prefix": other.prefix, "day": today.isoformat(), "calls": 4}]
    everyone = api_a.get("/api/v1/usage/").json()
    assert {row["key_id"] for row in everyone} == {other.pk, key_a[0].pk}  # no row for a zero count


def test_a_usage_window_that_ends_before_it_starts_is_empty(tenant_a):
    from datetime import timedelta

    from apps.api.selectors import api_usage_list

    today = datetime.now(UTC).date()
    with schema_context(tenant_a.schema_name):
        assert api_usage_list(since=today, until=today - timedelta(days=1)) == []
