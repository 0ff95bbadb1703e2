"""SAML single sign-on per tenant against a real pysaml2 IdP that signs its assertions."""

import contextlib

import pytest
from auditlog.models import LogEntry
from django_tenants.utils import schema_context

from apps.identity import mfa
from apps.identity.models import Membership, TenantSecurity, User
from tests.conftest import PASSWORD, client_for
from tests.identity.saml_idp import TestIdP

SP = "http://alpha.localhost"
ACS = f"{SP}/saml2/acs/"
SP_ENTITY = f"{SP}/saml2/metadata/"


@pytest.fixture(scope="module")
def idp():
    return TestIdP()


@pytest.fixture
def sso_alpha(tenant_a, owner_a, idp):
    """Alpha with SSO on for example.org, set through the admin's settings page; the IdP trusts alpha's SP."""
    client = client_for(tenant_a, owner_a)
    response = client.post(
        "/settings/security/",
        {
            "form": "sso",
            "sso_enabled": "on",
            "idp_metadata_xml": idp.metadata_xml(),
            "sso_domains": "example.org",
            "sso_default_role": "member",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sp_metadata = client_for(tenant_a).get("/saml2/metadata/")
    assert sp_metadata.status_code == 200
    if not any(SP_ENTITY in m for m in idp.sp_metadata):
        idp.trust_sp(sp_metadata.content.decode())
    return tenant_a


def acs_post(tenant, saml_response, client=None):
    client = client or client_for(tenant)
    return client, client.post("/saml2/acs/", {"SAMLResponse": saml_response, "RelayState": "/"})


@pytest.mark.django_db
def test_sp_metadata_is_served_per_tenant(tenant_a, tenant_b):
    alpha = client_for(tenant_a).get("/saml2/metadata/")
    beta = client_for(tenant_b).get("/saml2/metadata/")
    assert alpha["Content-Type"].startswith("text/xml")
    assert 'entityID="http://alpha.localhost/saml2/metadata/"' in alpha.content.decode()
    assert "http://alpha.localhost/saml2/acs/" in alpha.content.decode()
    assert 'entityID="http://beta.localhost/saml2/metadata/"' in beta.content.decode()


@pytest.mark.django_db
def test_a_signed_assertion_logs_in_and_creates_the_user_just_in_time(sso_alpha, idp):
    assert TenantSecurity.objects.get(tenant=sso_alpha).idp_entity_id == idp.entity_id
    client, response = acs_post(
        sso_alpha, idp.response(email="new.person@example.org", acs_url=ACS, sp_entity_id=SP_ENTITY)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user = User.objects.get(email="new.person@example.org")
    assert Membership.objects.get(user=user, tenant=sso_alpha).role == "member"
    assert client.get("/").status_code == 200
    assert client.session[mfa.MFA_STATE_KEY] == mfa.SSO
    with schema_context(sso_alpha.schema_name):
        login = LogEntry.objects.filter(additional_data__event="login").latest("timestamp")
        assert login.additional_data["method"] == "sso"
        assert LogEntry.objects.filter(additional_data__event="sso.settings_changed").exists()


@pytest.mark.django_db
def test_an_unsigned_assertion_is_refused(sso_alpha, idp):
    _, response = acs_post(
        sso_alpha, idp.response(email="u@example.org", acs_url=ACS, sp_entity_id=SP_ENTITY, sign=False)
    )
    assert response.status_code == 403
    assert "not signed" in response.content.decode()
    assert not User.objects.filter(email="u@example.org").exists()


@pytest.mark.django_db
def test_an_assertion_for_another_audience_is_refused(sso_alpha, tenant_b, idp):
    beta_metadata = client_for(tenant_b).get("/saml2/metadata/").content.decode()
    if not any("beta.localhost" in m for m in idp.sp_metadata):
        idp.trust_sp(beta_metadata)
    saml = idp.response(email="w@example.org", acs_url=ACS, sp_entity_id="http://beta.localhost/saml2/metadata/")
    _, response = acs_post(sso_alpha, saml)
    assert response.status_code == 403
    assert "wrong audience" in response.content.decode()
    assert not User.objects.filter(email="w@example.org").exists()


@pytest.mark.django_db
def test_an_expired_assertion_is_refused(sso_alpha, idp):
    saml = idp.response(email="e@example.org", acs_url=ACS, sp_entity_id=SP_ENTITY, lifetime_minutes=-10)
    _, response = acs_post(sso_alpha, saml)
    assert response.status_code == 403
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="e@example.org").exists()


@pytest.mark.django_db
def test_a_replayed_assertion_is_refused(sso_alpha, idp):
    saml = idp.response(email="r@example.org", acs_url=ACS, sp_entity_id=SP_ENTITY)
    first_client, first = acs_post(sso_alpha, saml)
    assert first.status_code == 302
    _, second = acs_post(sso_alpha, saml)
    assert second.status_code == 403
    assert "already used" in second.content.decode()


@pytest.mark.django_db
def test_an_email_outside_the_tenants_domains_is_refused(sso_alpha, idp):
    _, response = acs_post(sso_alpha, idp.response(email="owner@beta.example.com", acs_url=ACS, sp_entity_id=SP_ENTITY))
    assert response.status_code == 403
    assert "not in an email domain" in response.content.decode()


@pytest.mark.django_db
def test_the_same_assertion_is_refused_by_another_tenant(sso_alpha, tenant_b, idp):
    saml = idp.response(email="x@example.org", acs_url=ACS, sp_entity_id=SP_ENTITY)
    client = client_for(tenant_b)
    response = client.post("/saml2/acs/", {"SAMLResponse": saml})
    assert response.status_code in (403, 404)
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.django_db
def test_mandatory_sso_refuses_password_log_in_for_the_domain(sso_alpha, owner_a):
    TenantSecurity.objects.filter(tenant=sso_alpha).update(sso_enforced=True)
    mfa.tenant_security_forget(tenant=sso_alpha)
    user = User.objects.create_user(email="staff@example.org", password=PASSWORD)
    Membership.objects.create(user=user, tenant=sso_alpha, role="member")
    client = client_for(sso_alpha)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert "requires single sign-on" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other domains still log in with a password.
    assert client.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD}).status_code == 302


@pytest.mark.django_db
def test_bad_metadata_is_refused_on_the_settings_form(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post(
        "/settings/security/",
        {
            "form": "sso",
            "sso_enabled": "on",
            "idp_metadata_xml": "<not-saml/>",
            "sso_domains": "example.org",
            "sso_default_role": "member",
        },
    )
    assert response.status_code == 400
    assert (
        "not SAML metadata" in response.content.decode() or "exactly one identity provider" in response.content.decode()
    )


@pytest.mark.django_db
def test_sso_settings_need_settings_permission_and_membership(tenant_a, tenant_b, owner_b):
    from tests.factories import MembershipFactory

    member = MembershipFactory(tenant=tenant_a, role="member").user
    assert client_for(tenant_a, member).post("/settings/security/", {"form": "sso"}).status_code == 403
    assert client_for(tenant_a, owner_b).post("/settings/security/", {"form": "sso"}).status_code == 403


@pytest.mark.django_db
def test_sso_login_without_sso_set_up_is_404(tenant_b):
    assert client_for(tenant_b).get("/saml2/login/").status_code == 404


@contextlib.contextmanager
def http_server(answer):
    """A local HTTP server whose GET of a path answers `answer(path)`: (status, body). Yields its
    base URL."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status, body = answer(self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


@pytest.fixture
def metadata_server(idp):
    body = idp.metadata_xml().encode()
    with http_server(lambda path: (200, body)) as base:
        yield f"{base}/metadata"


def sso_form(**extra):
    return {"form": "sso", "sso_enabled": "on", "sso_domains": "example.org", "sso_default_role": "member", **extra}


@pytest.mark.django_db
def test_idp_metadata_can_be_given_by_url(tenant_a, owner_a, idp, metadata_server, settings):
    settings.HUB_SSO_METADATA_ALLOW_PRIVATE = True
    response = client_for(tenant_a, owner_a).post("/settings/security/", sso_form(idp_metadata_url=metadata_server))
    assert response.status_code == 302
    policy = TenantSecurity.objects.get(tenant=tenant_a)
    assert policy.idp_entity_id == idp.entity_id
    assert policy.idp_metadata_url == metadata_server


@pytest.mark.django_db
def test_metadata_urls_inside_the_network_are_refused(tenant_a, owner_a, metadata_server):
    client = client_for(tenant_a, owner_a)
    plain = client.post("/settings/security/", sso_form(idp_metadata_url=metadata_server))
    assert plain.status_code == 400 and "must use https" in plain.content.decode()
    loopback = client.post("/settings/security/", sso_form(idp_metadata_url="https://127.0.0.1:9/metadata"))
    assert loopback.status_code == 400 and "inside a private network" in loopback.content.decode()
    assert not TenantSecurity.objects.filter(tenant=tenant_a, sso_enabled=True).exists()


@pytest.mark.django_db
def test_an_existing_member_logs_in_through_the_idp(sso_alpha, idp):
    user = User.objects.create_user(email="member@example.org", password=PASSWORD)
    Membership.objects.create(user=user, tenant=sso_alpha, role="admin")
    client, response = acs_post(sso_alpha, idp.response(email=user.email, acs_url=ACS, sp_entity_id=SP_ENTITY))
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert Membership.objects.get(user=user, tenant=sso_alpha).role == "admin"


@pytest.mark.django_db
def test_an_account_made_outside_the_tenant_is_not_taken_over_by_its_idp(sso_alpha, tenant_b, idp):
    outsider = User.objects.create_user(email="outsider@example.org", password=PASSWORD)
    Membership.objects.create(user=outsider, tenant=tenant_b, role="owner")
    client, response = acs_post(sso_alpha, idp.response(email=outsider.email, acs_url=ACS, sp_entity_id=SP_ENTITY))
    assert response.status_code == 403
    assert "already exists" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not Membership.objects.filter(user=outsider, tenant=sso_alpha).exists()


@pytest.mark.django_db
def test_refused_sso_answers_go_to_the_platforms_log_not_the_tenants(sso_alpha, idp):
    saml = idp.response(email="u@example.org", acs_url=ACS, sp_entity_id=SP_ENTITY, sign=False)
    client_for(sso_alpha).post("/saml2/acs/", {"SAMLResponse": saml, "RelayState": "/"}, REMOTE_ADDR="203.0.113.10")
    with schema_context(sso_alpha.schema_name):
        assert not LogEntry.objects.filter(remote_addr="203.0.113.10").exists()
    with schema_context("public"):
        refused = LogEntry.objects.get(remote_addr="203.0.113.10")
    assert refused.additional_data["event"] == "login.failed" and "not signed" in refused.additional_data["reason"]
