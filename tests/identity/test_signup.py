"""Sign-up: the form is answered the same whether or not the address has an account (in every
email-verification setting); the link sent to a new address creates the account and its
organisation and hands the log-in over to the organisation's host."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django_tenants.utils import schema_exists

from apps.identity.models import Membership, SignupRequest, User
from apps.tenancy.models import Tenant
from tests.conftest import client_for

GOOD = {
    "full_name": " Fay   Founder ",
    "organisation_name": "Signup Co",
    "organisation_slug": "signup-co",
    "email": "founder@signup.example.com",
    "password1": "a-long-good-password-9",
    "password2": "a-long-good-password-9",
}


def finish_link(email: str) -> str:
    """The path of the sign-up link emailed to `email`."""
    body = next(m.body for m in reversed(mail.outbox) if email in m.to)
    return re.search(r"http://localhost(?::\d+)?(/accounts/signup/finish/\S+/)", body).group(1)


def sign_up(**change):
    return client_for(None).post("/accounts/signup/", {**GOOD, **change})


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


@pytest.mark.django_db
@pytest.mark.parametrize("verification", ["none", "optional", "mandatory"])
def test_signing_up_with_a_taken_address_looks_exactly_like_a_new_sign_up(tenant_a, owner_a, settings, verification):
    settings.ACCOUNT_EMAIL_VERIFICATION = verification
    before = (User.objects.count(), Tenant.objects.count())
    new = sign_up()
    taken = client_for(None)
    existing = taken.post("/accounts/signup/", {**GOOD, "email": owner_a.email, "organisation_slug": "other-co"})

    assert (new.status_code, new["Location"]) == (existing.status_code, existing["Location"])
    new_client = client_for(None)
    assert without_csrf(new_client.get(new["Location"]).content.decode()) == without_csrf(
        taken.get(existing["Location"]).content.decode()
    )
    assert "_auth_user_id" not in taken.session
    # Nothing exists yet for either: no account, no organisation, no address reserved.
    assert (User.objects.count(), Tenant.objects.count()) == before
    assert sign_up(email="someone.else@example.com").status_code == 302  # "signup-co" is still free
    # The new address gets its link; the account's owner hears that someone tried their address.
    assert finish_link(GOOD["email"])
    notice = next(m for m in mail.outbox if owner_a.email in m.to)
    assert "already exists" in notice.body and "/accounts/password/reset/" in notice.body
    assert SignupRequest.objects.filter(email=owner_a.email).count() == 0


@pytest.mark.django_db
def test_the_emailed_link_creates_the_organisation_and_hands_the_log_in_over_to_its_host():
    assert sign_up()["Location"] == "/accounts/confirm-email/"
    link = finish_link(GOOD["email"])
    public = client_for(None)
    page = public.get(link)
    assert page.status_code == 200 and "Create Signup Co" in page.content.decode()
    assert not User.objects.filter(email=GOOD["email"]).exists()  # opening the link changes nothing

    response = public.post(link, {"slug": "signup-co"})
    assert response.status_code == 302
    handover = response["Location"]
    assert handover.startswith("http://signup-co.localhost:8000/accounts/handover/")
    tenant = Tenant.objects.get(slug="signup-co")
    user = User.objects.get(email=GOOD["email"])
    assert user.check_password(GOOD["password1"])
    assert user.full_name == "Fay Founder"  # asked at sign-up, so Members and invitations show it
    assert Membership.objects.get(tenant=tenant, user=user).role == "owner"
    assert EmailAddress.objects.get(email=GOOD["email"]).verified
    assert schema_exists("t_signup_co")

    tenant_client = client_for(tenant)
    path = handover.split("8000", 1)[1]
    landed = tenant_client.get(path)
    assert landed.status_code == 302 and landed["Location"] == "/"
    home = tenant_client.get("/")
    assert home.status_code == 200 and b"Signup Co" in home.content
    assert "Welcome, Fay" in home.content.decode()

    # The link and the hand-over work once only.
    assert client_for(None).get(link).status_code == 410
    assert client_for(tenant).get(path)["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_an_address_taken_meanwhile_asks_for_another(tenant_a):
    sign_up(organisation_slug="first-choice")
    link = finish_link(GOOD["email"])
    from apps.identity.services import organisation_provision

    organisation_provision(name="Quicker", slug="first-choice", owner_email="quick@example.com")
    response = client_for(None).post(link, {"slug": "first-choice"})
    assert response.status_code == 400 and "already taken" in response.content.decode()
    assert not User.objects.filter(email=GOOD["email"]).exists()
    assert client_for(None).post(link, {"slug": "second-choice"}).status_code == 302
    assert Tenant.objects.get(slug="second-choice").memberships.get().user.email == GOOD["email"]


@pytest.mark.django_db
def test_handover_token_is_bound_to_its_tenant(tenant_b):
    sign_up()
    response = client_for(None).post(finish_link(GOOD["email"]), {"slug": "signup-co"})
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
        ({"full_name": ""}, "full_name", "Enter your name"),
        ({"full_name": "   "}, "full_name", "Enter your name"),
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
    assert not mail.outbox


@pytest.mark.django_db
def test_signup_is_closed_on_tenant_hosts(tenant_a):
    response = client_for(tenant_a).get("/accounts/signup/")
    assert b"join by invitation" in response.content or response.status_code in (403, 404)
    client_for(tenant_a).post("/accounts/signup/", {**GOOD, "organisation_slug": "sneaky"})
    assert not Tenant.objects.filter(slug="sneaky").exists()
    assert not SignupRequest.objects.exists()


@pytest.mark.django_db
def test_an_expired_link_says_so():
    sign_up()
    link = finish_link(GOOD["email"])
    SignupRequest.objects.update(expires_at="2000-01-01T00:00:00Z")
    response = client_for(None).post(link, {"slug": "signup-co"})
    assert response.status_code == 410 and "expired" in response.content.decode()
    assert not User.objects.filter(email=GOOD["email"]).exists()


@pytest.mark.django_db
def test_an_account_made_meanwhile_for_the_address_is_not_replaced():
    sign_up()
    link = finish_link(GOOD["email"])
    User.objects.create_user(email=GOOD["email"], password="another-password-77")
    response = client_for(None).post(link, {"slug": "signup-co"})
    assert response.status_code == 400 and "already exists" in response.content.decode()
    assert User.objects.get(email=GOOD["email"]).check_password("another-password-77")
    assert not Tenant.objects.filter(slug="signup-co").exists()
