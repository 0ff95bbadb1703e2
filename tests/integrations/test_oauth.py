"""OAuth 2.0 connections against a local fake provider: the access token fetched and refreshed
when it expires and when the service answers 401 (the rotated refresh token kept, encrypted), the
client credentials grant, a revoked refresh token reported with the provider's reason; and the
consent flow from the connection's page (authorization code with PKCE), its refusals and its
isolation."""

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.integrations.errors import CredentialError
from apps.integrations.models import Connection
from apps.integrations.services import connection_test
from tests.conftest import client_for, host_of
from tests.factories import MembershipFactory

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


# --- The consent flow: authorization code with PKCE, from the connection's page -----------------


def consenting_connection(tenant, fake):
    conn = oauth_connection(tenant, fake)
    with schema_context(tenant.schema_name):
        Connection.objects.filter(pk=conn.pk).update(
            settings={**conn.settings, "authorize_url": f"{fake.url}/authorize"}
        )
    return conn


def start(client, conn) -> dict:
    """Presses "Connect": the redirect to the provider's consent page, its query."""
    answer = client.post(f"/integrations/{conn.pk}/connect/")
    assert answer.status_code == 302, answer.content.decode()[:500]
    location = urlsplit(answer["Location"])
    return {k: v[0] for k, v in parse_qs(location.query).items()} | {"at": f"{location.netloc}{location.path}"}


def flashed(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_an_admin_connects_through_the_providers_consent_and_the_tokens_are_kept(tenant_a, owner_a, fake):
    provider = FakeOAuth(fake)
    conn = consenting_connection(tenant_a, fake)
    client = client_for(tenant_a, owner_a)
    page = client.get(f"/integrations/{conn.pk}/")
    callback = f"http://{host_of(tenant_a)}/integrations/oauth/callback/"
    assert "Connect with HTTP" in page.content.decode() and callback in page.content.decode()
    assert "form-action 'self' " in page["Content-Security-Policy"]
    assert page["Content-Security-Policy"].split("form-action")[1].split(";")[0].endswith(fake.url)
    asked = start(client, conn)
    assert asked["at"] == f"{fake.url.removeprefix('http://')}/authorize"
    assert asked["response_type"] == "code" and asked["client_id"] == "hub-client" and asked["scope"] == "read"
    assert asked["redirect_uri"] == callback and asked["code_challenge_method"] == "S256"
    code = provider.consent(asked)  # the admin allows access at the provider
    back = client.get("/integrations/oauth/callback/", {"code": code, "state": asked["state"]})
    assert back.status_code == 302 and back["Location"] == f"/integrations/{conn.pk}/"
    assert f"“{conn.name}” is connected." in flashed(back)
    [grant] = fake.made("POST", "/token")
    assert grant.form()["grant_type"] == "authorization_code" and grant.form()["redirect_uri"] == callback
    secrets, expires = stored(tenant_a, conn.pk)
    assert secrets["access_token"] == "access-1" and secrets["refresh_token"] == "refresh-2" and expires
    assert me(tenant_a, conn)["status"] == 200 and len(fake.made("POST", "/token")) == 1
    with schema_context(tenant_a.schema_name):
        assert Connection.objects.get(pk=conn.pk).status == "working"
    again = client.get("/integrations/oauth/callback/", {"code": code, "state": asked["state"]})
    assert "was not asked for here" in flashed(again)  # a state is good once


@pytest.mark.parametrize("case", ["refused at the provider", "no such state", "a code the provider does not know"])
def test_a_consent_that_fails_says_why_and_keeps_what_the_connection_had(tenant_a, owner_a, fake, case):
    provider = FakeOAuth(fake)
    conn = consenting_connection(tenant_a, fake)
    client = client_for(tenant_a, owner_a)
    asked = start(client, conn)
    query = {"code": "code-404", "state": asked["state"]}
    if case == "refused at the provider":
        query = {"error": "access_denied", "error_description": "The user denied access", "state": asked["state"]}
    elif case == "no such state":
        query["state"] = "forged"
    back = client.get("/integrations/oauth/callback/", query)
    words = {
        "refused at the provider": f"The provider did not connect “{conn.name}”: The user denied access.",
        "no such state": "was not asked for here, or came too late",
        "a code the provider does not know": "The code is unknown, used or not yours.",
    }[case]
    assert back.status_code == 302 and words in flashed(back)
    secrets, _ = stored(tenant_a, conn.pk)
    assert secrets == {"client_secret": "s3cret"} and provider.issued == 0


def test_another_tenant_and_members_without_the_right_cannot_use_a_consent(tenant_a, tenant_b, owner_a, owner_b, fake):
    FakeOAuth(fake)
    conn = consenting_connection(tenant_a, fake)
    asked = start(client_for(tenant_a, owner_a), conn)
    code = "code-1"
    on_b = client_for(tenant_b, owner_b).get("/integrations/oauth/callback/", {"code": code, "state": asked["state"]})
    assert "was not asked for here" in flashed(on_b)  # B's session never started it; A's pk means nothing there
    assert client_for(tenant_b, owner_b).post(f"/integrations/{conn.pk}/connect/").status_code == 404
    member = MembershipFactory(tenant=tenant_a, role="member")
    assert client_for(tenant_a, member.user).post(f"/integrations/{conn.pk}/connect/").status_code == 403
    assert fake.made("POST", "/token") == []


def test_without_an_authorization_url_connect_says_what_is_missing(tenant_a, owner_a, fake):
    conn = oauth_connection(tenant_a, fake)
    client = client_for(tenant_a, owner_a)
    assert "Connect with" not in client.get(f"/integrations/{conn.pk}/").content.decode()
    answer = client.post(f"/integrations/{conn.pk}/connect/")
    assert answer.status_code == 302 and answer["Location"] == f"/integrations/{conn.pk}/"
    assert "Give the provider's authorization URL" in flashed(answer)


def test_a_new_github_oauth_connection_starts_from_githubs_endpoints(tenant_a, owner_a):
    form = client_for(tenant_a, owner_a).get("/integrations/new/", {"connector": "github", "auth_type": "oauth2"})
    html = form.content.decode()
    assert 'value="https://github.com/login/oauth/authorize"' in html
    assert 'value="https://github.com/login/oauth/access_token"' in html
