import re

import pytest
from django.core import mail
from django_tenants.utils import schema_exists

from apps.identity.models import Membership, User
from apps.tenancy.models import Tenant
from tests.conftest import client_for

GOOD = {
    "organisation_name": "Signup Co",
    "organisation_slug": "signup-co",
    "email": "founder@signup.example.com",
    "password1": "a-long-good-password-9",
    "password2": "a-long-good-password-9",
}


@pytest.mark.django_db
def test_signup_creates_organisation_and_hands_over_login_to_its_host():
    public = client_for(None)
    response = public.post("/accounts/signup/", GOOD)
    assert response.status_code == 302
    handover = response["Location"]
    assert handover.startswith("http://signup-co.localhost:8000/accounts/handover/")

    tenant = Tenant.objects.get(slug="signup-co")
    user = User.objects.get(email="founder@signup.example.com")
    assert Membership.objects.get(tenant=tenant, user=user).role == "owner"
    assert schema_exists("t_signup_co")
    assert any("founder@signup.example.com" in m.to for m in mail.outbox)  # verification email

    tenant_client = client_for(tenant)
    path = handover.split("8000", 1)[1]
    landed = tenant_client.get(path)
    assert landed.status_code == 302 and landed["Location"] == "/"
    home = tenant_client.get("/")
    assert home.status_code == 200
    assert b"Signup Co" in home.content

    # The hand-over works once only.
    again = client_for(tenant).get(path)
    assert again["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_handover_token_is_bound_to_its_tenant(tenant_b):
    response = client_for(None).post("/accounts/signup/", GOOD)
    path = response["Location"].split("8000", 1)[1]
    stolen = client_for(tenant_b).get(path)
    assert stolen["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client_for(tenant_b).session


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"organisation_slug": "alpha"}, "organisation_slug", "already taken"),
        ({"organisation_slug": "admin"}, "organisation_slug", "reserved"),
        ({"organisation_slug": "Bad Slug"}, "organisation_slug", "lowercase"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"organisation_name": ""}, "organisation_name", "required"),
    ],
)
def test_bad_signup_rerenders_form_with_message_and_creates_nothing(tenant_a, change, field, message):
    before = (User.objects.count(), Tenant.objects.count())
    response = client_for(None).post("/accounts/signup/", {**GOOD, **change})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert message in " ".join(errors[field])
    assert message.encode() in response.content
    assert (User.objects.count(), Tenant.objects.count()) == before


@pytest.mark.django_db
def test_signup_is_closed_on_tenant_hosts(tenant_a):
    response = client_for(tenant_a).get("/accounts/signup/")
    assert b"Sign Up Closed" in response.content or response.status_code in (403, 404)
    client_for(tenant_a).post("/accounts/signup/", {**GOOD, "organisation_slug": "sneaky"})
    assert not Tenant.objects.filter(slug="sneaky").exists()


@pytest.mark.django_db
def test_email_verification_link_verifies_the_address():
    client_for(None).post("/accounts/signup/", GOOD)
    body = next(m.body for m in mail.outbox if GOOD["email"] in m.to)
    link = re.search(r"http://localhost(?::\d+)?(/accounts/confirm-email/\S+)", body).group(1)
    client = client_for(None)
    client.post(link)
    from allauth.account.models import EmailAddress

    assert EmailAddress.objects.get(email=GOOD["email"]).verified
