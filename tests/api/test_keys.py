"""API keys: stored hashed, shown once, prefix visible, scopes per app, expiry, revocation at
once, tenant-bound, acting with the creator's role; the create_api_key command."""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.api.keycache import hash_key
from apps.api.models import ApiKey
from apps.api.services import api_key_revoke
from apps.identity.models import Membership
from tests.conftest import manage
from tests.factories import MembershipFactory

from .conftest import api_client, make_key

pytestmark = pytest.mark.django_db


def test_key_is_stored_hashed_with_visible_prefix(tenant_a):
    key, raw = make_key(tenant_a, name="CRM sync")
    assert raw.startswith(key.prefix + "_")
    assert len(raw) > 40
    with schema_context(tenant_a.schema_name):
        stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hash_key(raw)
    assert raw not in (stored.key_hash, stored.prefix, stored.name)


def test_valid_key_authenticates(tenant_a, key_a):
    response = api_client(tenant_a, key_a[1]).get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response.json()["slug"] == "alpha"


@pytest.mark.parametrize(
    "header, detail",
    [
        ("Bearer nonsense", "Malformed API key"),
        ("Bearer hub_00000000_doesnotexistatalldoesnotexist", "not valid for this organisation"),
    ],
)
def test_bad_keys_get_401_problem(tenant_a, header, detail):
    from django.test import Client

    from tests.conftest import host_of

    response = Client(HTTP_HOST=host_of(tenant_a), HTTP_AUTHORIZATION=header).get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert detail in response.json()["detail"]


def test_no_credentials_get_401(tenant_a):
    response = api_client(tenant_a).get("/api/v1/members/")
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_wrong_secret_with_right_prefix_gets_401(tenant_a, key_a):
    key, raw = key_a
    forged = f"{key.prefix}_{'x' * 43}"
    assert api_client(tenant_a, forged).get("/api/v1/tenant/").status_code == 401


def test_key_of_tenant_a_on_tenant_b_gets_401(tenant_a, tenant_b, key_a):
    response = api_client(tenant_b, key_a[1]).get("/api/v1/tenant/")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_revocation_works_at_once_even_on_a_warm_cache(tenant_a, key_a):
    key, raw = key_a
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/tenant/").status_code == 200  # now cached in this process
    with schema_context(tenant_a.schema_name):
        api_key_revoke(actor=None, key=key)
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


@override_settings(HUB_API_KEY_RECHECK_SECONDS=0.3)
def test_revocation_by_another_process_reaches_a_warm_cache_within_the_recheck_interval(tenant_a, key_a):
    """Another process revokes: only the Redis version moves, this process's cache is stale
    until it next compares the versions."""
    from apps.api.keycache import redis, version_key

    key, raw = key_a
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/tenant/").status_code == 200
    with schema_context(tenant_a.schema_name):
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    redis().incr(version_key(tenant_a.schema_name))
    time.sleep(0.35)
    assert client.get("/api/v1/tenant/").status_code == 401


def test_expired_key_gets_401(tenant_a):
    key, raw = make_key(tenant_a, expires_at=timezone.now() + timedelta(hours=1))
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/tenant/").status_code == 200
    with schema_context(tenant_a.schema_name):
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    from apps.api.keycache import cache

    cache.clear()
    response = client.get("/api/v1/tenant/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_key_stops_when_its_creator_leaves(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    key, raw = make_key(tenant_a, user=admin.user)
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/members/").status_code == 200
    admin.delete()
    response = client.get("/api/v1/members/")
    assert response.status_code == 401
    assert "no longer belongs" in response.json()["detail"]


def test_key_acts_with_its_creators_current_role(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    key, raw = make_key(tenant_a, user=admin.user)
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/audit-log/").status_code == 200
    Membership.objects.filter(pk=admin.pk).update(role="viewer")
    admin.refresh_from_db()
    admin.save()  # a role change (as the members page makes it) drops cached keys
    response = client.get("/api/v1/audit-log/")
    assert response.status_code == 403
    assert "viewer" in response.json()["detail"]


@pytest.mark.parametrize(
    "scopes, method, path, status",
    [
        (["identity:read"], "get", "/api/v1/members/", 200),
        (["identity:read"], "post", "/api/v1/invitations/", 403),
        (["identity:write"], "post", "/api/v1/invitations/", 201),
        (["identity:write"], "get", "/api/v1/members/", 200),  # write includes read
        (["audit:read"], "get", "/api/v1/members/", 403),  # another app's scope
        (["tenancy:read"], "patch", "/api/v1/tenant/", 403),
        (["tenancy:write"], "patch", "/api/v1/tenant/", 200),
        (["api:read"], "get", "/api/v1/api-keys/", 200),
        (["api:read"], "post", "/api/v1/api-keys/", 403),
    ],
)
def test_scopes_per_app_read_or_write(tenant_a, scopes, method, path, status):
    key, raw = make_key(tenant_a, scope_list=scopes)
    body = {
        "/api/v1/invitations/": {"email": "scoped@example.com", "role": "member"},
        "/api/v1/tenant/": {"name": "Alpha Renamed"},
        "/api/v1/api-keys/": {"name": "x", "scopes": ["audit:read"]},
    }.get(path, {})
    client = api_client(tenant_a, raw)
    call = getattr(client, method)
    response = call(path, body, content_type="application/json") if method != "get" else call(path)
    assert response.status_code == status, response.content
    if status == 403:
        assert "lacks the scope" in response.json()["detail"]


def test_create_api_key_command_prints_key_once(capsys, tenant_a):
    call_command("create_api_key", "alpha", "Nightly export", "--scopes", "audit:read,identity:read")
    captured = capsys.readouterr()
    raw = captured.out.strip()
    assert raw.startswith("hub_") and "\n" not in raw
    assert "not shown again" in captured.err
    with schema_context(tenant_a.schema_name):
        key = ApiKey.objects.get(name="Nightly export")
    assert key.key_hash == hash_key(raw)
    assert key.scopes == ["audit:read", "identity:read"]
    assert api_client(tenant_a, raw).get("/api/v1/audit-log/").status_code == 200


@pytest.mark.parametrize(
    "args, message",
    [
        (["nope", "x", "--scopes", "audit:read"], "No tenant with slug 'nope'."),
        (["alpha", "x", "--scopes", "audit:fly"], "scopes: Unknown scope audit:fly."),
        (["alpha", "", "--scopes", "audit:read"], "name: Give the key a name"),
        (["alpha", "x", "--scopes", "audit:read", "--expires-days", "0"], "--expires-days must be 1 or more."),
        (["alpha", "x", "--scopes", "audit:read", "--as", "who@example.com"], "is not a member of alpha"),
    ],
)
def test_create_api_key_command_errors_are_one_line_exit_1(tenant_a, args, message):
    result = manage("create_api_key", *args)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip() and "XMLSchema" not in line]
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
