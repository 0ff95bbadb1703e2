"""Single sign-on when the settings or the identity provider's answer are not usable: the admin's
form names the field, the person logging in gets a page saying why, the refusal is audited, and
no account or membership is made."""

import base64

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django_tenants.utils import get_public_schema_name, schema_context
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import NameID
from saml2.validate import ResponseLifetimeExceed, ToEarly

from apps.identity import mfa, sso
from apps.identity.models import Membership, TenantSecurity, User
from tests.conftest import client_for
from tests.identity.test_sso import ACS, SP_ENTITY, acs_post, http_server, idp, sso_alpha, sso_form  # noqa: F401

pytestmark = pytest.mark.django_db


def post_sso(client, **fields):
    return client.post("/settings/security/", sso_form(**fields))


def tenant_request(tenant, path="/saml2/acs/", data=None):
    request = RequestFactory(HTTP_HOST=f"{tenant.slug}.localhost").post(path, data or {})
    request.tenant = tenant
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    return request


def failed_logins(tenant):
    """The failed log-ins seen on `tenant`'s host by people who are not its members: an SSO answer
    refused before anyone is known goes to the platform's log, not the tenant's."""
    with schema_context(get_public_schema_name()):
        return list(LogEntry.objects.filter(additional_data__event="login.failed").order_by("timestamp"))


# --- The admin's settings form ------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"idp_metadata_xml": ""}, "idp_metadata_xml", "Give the IdP metadata (URL or XML) to turn SSO on."),
        ({"sso_domains": " , ;"}, "sso_domains", "Name at least one email domain"),
        ({"sso_domains": "example.org, localhost"}, "sso_domains", "“localhost” is not a domain name."),
        ({"sso_domains": "exa mple.org"}, "sso_domains", "“exa mple.org” is not a domain name."),
    ],
)
def test_unusable_sso_settings_name_the_field(tenant_a, owner_a, idp, fields, field, message):  # noqa: F811
    fields.setdefault("idp_metadata_xml", idp.metadata_xml())
    response = post_sso(client_for(tenant_a, owner_a), **fields)
    assert response.status_code == 400
    assert message in " ".join(response.context["sso_form"].errors[field])
    assert not TenantSecurity.objects.filter(tenant=tenant_a, sso_enabled=True).exists()


def test_domains_are_cleaned_and_metadata_kept_while_sso_is_off(tenant_a, owner_a, idp):  # noqa: F811
    response = post_sso(
        client_for(tenant_a, owner_a),
        sso_enabled="",
        sso_enforced="on",
        idp_metadata_xml=idp.metadata_xml(),
        sso_domains="@Example.org; example.com, example.org",
    )
    assert response.status_code == 302
    policy = TenantSecurity.objects.get(tenant=tenant_a)
    assert policy.sso_domains == ["example.com", "example.org"]
    assert policy.idp_entity_id == idp.entity_id
    assert policy.sso_enforced is False  # mandatory SSO means nothing while SSO is off


def test_metadata_that_is_not_xml_is_refused(tenant_a, owner_a):
    response = post_sso(client_for(tenant_a, owner_a), idp_metadata_xml="this is { not xml")
    assert response.status_code == 400
    assert "This is not SAML metadata" in response.context["sso_form"].errors["idp_metadata_xml"][0]


def test_metadata_describing_no_identity_provider_is_refused(tenant_a, owner_a):
    sp_metadata = client_for(tenant_a).get("/saml2/metadata/").content.decode()
    response = post_sso(client_for(tenant_a, owner_a), idp_metadata_xml=sp_metadata)
    assert response.status_code == 400
    assert response.context["sso_form"].errors["idp_metadata_xml"] == [
        "The metadata must describe exactly one identity provider."
    ]


def test_a_metadata_address_that_cannot_be_resolved_is_refused(tenant_a, owner_a):
    response = post_sso(client_for(tenant_a, owner_a), idp_metadata_url="https://idp.invalid/metadata")
    assert response.status_code == 400
    assert response.context["sso_form"].errors["idp_metadata_url"] == ["idp.invalid cannot be resolved."]


def test_only_http_metadata_addresses_are_fetched(settings):
    from django.core.exceptions import ValidationError

    settings.HUB_SSO_METADATA_ALLOW_PRIVATE = True
    with pytest.raises(ValidationError) as refused:
        sso.metadata_fetch("ftp://idp.example.com/metadata")
    assert refused.value.message_dict == {"idp_metadata_url": ["Give an http(s) address."]}


def test_a_metadata_address_that_does_not_answer_is_refused(tenant_a, owner_a, settings):
    settings.HUB_SSO_METADATA_ALLOW_PRIVATE = True
    response = post_sso(client_for(tenant_a, owner_a), idp_metadata_url="http://127.0.0.1:9/metadata")
    assert response.status_code == 400
    assert response.context["sso_form"].errors["idp_metadata_url"] == [
        "The metadata could not be fetched (ConnectionError)."
    ]


@pytest.fixture
def odd_metadata_server():
    """/missing answers 404; /huge sends more than a megabyte."""
    with http_server(lambda path: (200, b"<x/>" * (1 << 18) + b" ") if path == "/huge" else (404, b"")) as base:
        yield base


@pytest.mark.parametrize(
    "path, message",
    [
        ("/missing", "The metadata could not be fetched (the server answered 404)."),
        ("/huge", "The metadata is larger than 1 MB."),
    ],
)
def test_a_metadata_answer_that_is_not_metadata_is_refused(odd_metadata_server, settings, path, message):
    from django.core.exceptions import ValidationError

    settings.HUB_SSO_METADATA_ALLOW_PRIVATE = True
    with pytest.raises(ValidationError) as refused:
        sso.metadata_fetch(odd_metadata_server + path)
    assert refused.value.message_dict == {"idp_metadata_url": [message]}


def test_a_metadata_address_with_credentials_is_refused_saying_why():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        sso.metadata_fetch("https://user:secret@idp.example.com/metadata")
    assert refused.value.message_dict == {
        "idp_metadata_url": ["Credentials in the URL are not allowed; put them in the path or a query parameter."]
    }


def test_metadata_is_fetched_from_the_address_that_was_checked(monkeypatch, settings):
    """The metadata host is resolved once: an answer that changes after the check (DNS rebinding,
    here to a server on 127.0.0.1) is never connected to; the fetch goes to the checked address."""
    import socket

    from django.core.exceptions import ValidationError

    settings.HUB_SSO_METADATA_ALLOW_PRIVATE = False
    inside = socket.create_server(("127.0.0.1", 0))
    port = inside.getsockname()[1]
    answers = iter(["93.184.215.14"])  # a public address first, 127.0.0.1 from then on

    def getaddrinfo(host, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "127.0.0.1"), port))]

    connected, real_connect = [], socket.socket.connect

    def connect(sock, address):
        connected.append(address)
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError("no network in the tests")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    with inside, pytest.raises(ValidationError) as refused:
        sso.metadata_fetch(f"https://idp.example.com:{port}/metadata")
    assert connected == [("93.184.215.14", port)]
    assert refused.value.message_dict == {"idp_metadata_url": ["The metadata could not be fetched (ConnectionError)."]}


def test_new_users_cannot_be_made_owners_by_the_idp(tenant_a, idp):  # noqa: F811
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        sso.sso_settings_update(
            request=None,
            tenant=tenant_a,
            sso_enabled=True,
            idp_metadata_url="",
            idp_metadata_xml=idp.metadata_xml(),
            sso_domains="example.org",
            sso_enforced=False,
            sso_default_role="owner",
        )
    assert refused.value.message_dict == {"sso_default_role": ["New users cannot become owners automatically."]}
    assert not TenantSecurity.objects.filter(tenant=tenant_a).exists()


# --- Answers from the identity provider ---------------------------------------------------------


def _authenticate(request, *, email="p@example.org", assertion_id="id-1", attributes=True, name_id=None):
    session_info = {"ava": {"mail": [email]} if attributes else {}, "name_id": name_id}
    return sso.TenantSAMLBackend().authenticate(
        request, session_info=session_info, assertion_info={"assertion_id": assertion_id} if assertion_id else None
    )


def test_the_email_may_come_in_the_name_id(sso_alpha):  # noqa: F811
    request = tenant_request(sso_alpha)
    user = _authenticate(request, attributes=False, name_id=NameID(text=" Named@Example.org "))
    assert user.email == "named@example.org"
    assert Membership.objects.get(user=user, tenant=sso_alpha).role == "member"


@pytest.mark.parametrize(
    "kwargs, reason",
    [
        ({"assertion_id": None}, "carries no assertion ID"),
        ({"attributes": False, "name_id": NameID(text="not-an-email")}, "did not send an email address"),
        ({"attributes": False}, "did not send an email address"),
    ],
)
def test_an_answer_without_what_the_hub_needs_is_refused_and_audited(sso_alpha, kwargs, reason):  # noqa: F811
    request = tenant_request(sso_alpha)
    with pytest.raises(PermissionDenied, match=reason):
        _authenticate(request, **kwargs)
    assert reason in request.hub_sso_error
    assert reason in failed_logins(sso_alpha)[-1].additional_data["reason"]
    assert not User.objects.filter(email="p@example.org").exists()


def test_an_answer_arriving_after_sso_was_turned_off_is_refused(sso_alpha):  # noqa: F811
    TenantSecurity.objects.filter(tenant=sso_alpha).update(sso_enabled=False)
    mfa.tenant_security_forget(tenant=sso_alpha)
    with pytest.raises(PermissionDenied, match="not turned on"):
        _authenticate(tenant_request(sso_alpha))


def test_a_disabled_account_is_not_logged_in_by_the_idp(sso_alpha):  # noqa: F811
    user = User.objects.create_user(email="gone@example.org", password=None, is_active=False)
    Membership.objects.create(user=user, tenant=sso_alpha, role="member")
    with pytest.raises(PermissionDenied, match="This account is disabled."):
        _authenticate(tenant_request(sso_alpha), email=user.email, assertion_id="id-disabled")


def test_the_backend_ignores_other_kinds_of_log_in(tenant_a):
    assert sso.TenantSAMLBackend().authenticate(None, session_info={"ava": {}}) is None
    assert sso.TenantSAMLBackend().authenticate(tenant_request(tenant_a)) is None


def test_assertions_are_not_accepted_on_the_public_site():
    from django.http import Http404

    request = RequestFactory().post("/saml2/acs/")
    request.tenant = None
    with pytest.raises(Http404):
        sso.sso_user_for_assertion(request=request, session_info={}, assertion_info={"assertion_id": "x"})


def test_an_answer_that_is_not_saml_gets_a_page_saying_it_was_refused(sso_alpha):  # noqa: F811
    _, response = acs_post(sso_alpha, base64.b64encode(b"<html>not saml</html>").decode())
    assert response.status_code in (400, 403)
    assert b"The sign-in answer from your identity provider was refused." in response.content
    assert failed_logins(sso_alpha)[-1].additional_data["method"] == "sso"
    _, garbage = acs_post(sso_alpha, "%%% not base64 %%%")
    assert garbage.status_code in (400, 403)
    assert b"refused" in garbage.content


@pytest.mark.parametrize(
    "exception, message",
    [
        (ToEarly("not yet"), "is not valid yet. Check the clocks"),
        (ResponseLifetimeExceed("too old"), "has expired. Start the log-in again."),
        (StatusError("denied"), "Your identity provider did not log you in."),
        (UnsolicitedResponse("who?"), "does not match a log-in started here."),
        (Exception("Invalid signature on the assertion"), "is not signed by your organisation"),
        (Exception("AudienceRestriction: audience mismatch"), "meant for another service (wrong audience)"),
    ],
)
def test_the_refusal_page_explains_pysaml2s_errors(sso_alpha, exception, message):  # noqa: F811
    response = sso.acs_failure(tenant_request(sso_alpha), exception=exception)
    assert response.status_code == 403
    assert message in response.content.decode()
    assert message in failed_logins(sso_alpha)[-1].additional_data["reason"]


def test_an_assertion_without_conditions_is_explained_by_the_error_itself(sso_alpha):  # noqa: F811
    saml = base64.b64encode(
        b'<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        b'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Assertion/></samlp:Response>'
    ).decode()
    request = tenant_request(sso_alpha, data={"SAMLResponse": saml})
    response = sso.acs_failure(request, exception=StatusError("no"))
    assert "Your identity provider did not log you in." in response.content.decode()
