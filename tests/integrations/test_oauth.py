"""OAuth 2.0 connections against a local fake provider: the access token fetched and refreshed
when it expires and when the service answers 401 (the rotated refresh token kept, encrypted), the
client credentials grant, and a revoked refresh token reported with the provider's reason."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.integrations.errors import CredentialError
from apps.integrations.models import Connection
from apps.integrations.services import connection_test

from .conftest import make_connection, run_node
from .fakes import FakeOAuth

pytestmark = pytest.mark.django_db


def oauth_connection(tenant, fake, **secrets):
    return make_connection(
        tenant,
        name="OAuth service",
        auth_type="oauth2",
        base_url=fake.url,
        settings={
            "token_url": f"{fake.url}/token",
            "client_id": "hub-client",
            "scope": "read",
            "check_path": "/api/me",
        },
        secrets={"client_secret": "s3cret", **secrets},
    )


def stored(tenant, pk) -> tuple[dict, object]:
    with schema_context(tenant.schema_name):
        conn = Connection.objects.get(pk=pk)
        return json.loads(conn.secrets), conn.token_expires_at


def me(tenant, conn):
    return run_node(tenant, "http.request", {"credential": conn.pk, "path": "/api/me"})


def test_the_first_call_gets_a_token_with_the_refresh_token_and_keeps_the_rotated_one(tenant_a, fake):
    provider = FakeOAuth(fake)
    conn = oauth_connection(tenant_a, fake, refresh_token="refresh-1")
    assert me(tenant_a, conn) == {"status": 200, "body": {"login": "hub-bot"}}
    [grant] = fake.made("POST", "/token")
    assert grant.form() == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": "hub-client",
        "client_secret": "s3cret",
        "scope": "read",
    }
    secrets, expires = stored(tenant_a, conn.pk)
    assert secrets["access_token"] == "access-1" and secrets["refresh_token"] == "refresh-2"
    assert expires > timezone.now() + timedelta(minutes=59)
    me(tenant_a, conn)  # the token is still good: no second grant
    assert len(fake.made("POST", "/token")) == 1 and provider.issued == 1


def test_an_expired_token_is_refreshed_before_the_call(tenant_a, fake):
    FakeOAuth(fake)
    conn = oauth_connection(tenant_a, fake, refresh_token="refresh-1")
    me(tenant_a, conn)
    with schema_context(tenant_a.schema_name):
        Connection.objects.filter(pk=conn.pk).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    assert me(tenant_a, conn)["status"] == 200
    grants = fake.made("POST", "/token")
    assert [g.form()["refresh_token"] for g in grants] == ["refresh-1", "refresh-2"]
    assert [r.headers["authorization"] for r in fake.made("GET", "/api/me")] == ["Bearer access-1", "Bearer access-2"]


def test_a_401_refreshes_the_token_and_tries_once_more(tenant_a, fake):
    provider = FakeOAuth(fake)
    conn = oauth_connection(tenant_a, fake, refresh_token="refresh-1")
    me(tenant_a, conn)
    provider.tokens.clear()  # the provider forgot the token before its time
    assert me(tenant_a, conn)["status"] == 200
    assert [r.headers["authorization"] for r in fake.made("GET", "/api/me")] == [
        "Bearer access-1",
        "Bearer access-1",
        "Bearer access-2",
    ]


def test_without_a_refresh_token_the_client_credentials_grant_is_used(tenant_a, fake):
    FakeOAuth(fake)
    conn = oauth_connection(tenant_a, fake)
    assert me(tenant_a, conn)["status"] == 200
    assert fake.made("POST", "/token")[0].form()["grant_type"] == "client_credentials"


def test_a_revoked_refresh_token_is_reported_and_marks_the_connection_expired(tenant_a, fake):
    provider = FakeOAuth(fake)
    conn = oauth_connection(tenant_a, fake, refresh_token="refresh-1")
    me(tenant_a, conn)
    provider.revoke_all()
    with pytest.raises(CredentialError) as error:
        me(tenant_a, conn)
    assert "The OAuth provider refused to renew the token" in error.value.message
    assert "The refresh token was revoked." in error.value.message and error.value.retryable is False
    with schema_context(tenant_a.schema_name):
        conn = Connection.objects.get(pk=conn.pk)
        assert conn.status == "expired" and "revoked" in conn.status_reason
        ok, reason = connection_test(tenant=tenant_a, connection=conn)
    assert ok is False and "The refresh token was revoked." in reason


def test_a_wrong_client_secret_fails_the_connection_test_with_the_reason(tenant_a, fake):
    FakeOAuth(fake)
    conn = oauth_connection(tenant_a, fake)
    with schema_context(tenant_a.schema_name):
        conn.secrets = json.dumps({"client_secret": "wrong"})
        conn.save()
        ok, reason = connection_test(tenant=tenant_a, connection=conn)
    assert ok is False and "invalid_client" not in reason and "Unknown client or wrong secret." in reason
