"""The tenant's log-in policy at every way into it: the hand-over after a log-in on the public
site, the tenant switcher, accepting an invitation, a passkey on the tenant's host, and a session
that got in some other way — for a tenant that makes SSO mandatory and for one that requires MFA."""

import pytest
from django.conf import settings

from apps.identity import mfa
from apps.identity.handover import handover_url
from apps.identity.models import Invitation, Membership, TenantSecurity, TOTPDevice, User
from apps.identity.services import invitation_create
from tests.conftest import PASSWORD, client_for, host_of, set_mfa_state
from tests.identity.soft_passkey import SoftPasskey
from tests.identity.test_mfa import authenticator_code


def local(url: str) -> str:
    assert "://" in url, url
    rest = url.split("://", 1)[1]
    return "/" + rest.split("/", 1)[1]


def host(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[0].split(":")[0]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def log_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


@pytest.fixture
def sso_mandatory(tenant_a):
    """Alpha makes single sign-on mandatory for example.org."""
    TenantSecurity.objects.update_or_create(
        tenant=tenant_a,
        defaults={"sso_enabled": True, "sso_enforced": True, "sso_domains": ["example.org"]},
    )
    mfa.tenant_security_forget(tenant=tenant_a)
    return tenant_a


@pytest.fixture
def mfa_required(tenant_a):
    mfa.mfa_policy_set(request=None, tenant=tenant_a, required=True)
    return tenant_a


def member_of(email, *tenants) -> User:
    """A user with a password and no second factor, a member of each of `tenants`."""
    user = User.objects.create_user(email=email, password=PASSWORD)
    for tenant in tenants:
        Membership.objects.create(user=user, tenant=tenant, role="member")
    return user


@pytest.fixture
def staff(tenant_a, tenant_b):
    """A member of alpha and of beta, in alpha's SSO domain."""
    return member_of("staff@example.org", tenant_a, tenant_b)


def follow_to(tenant, url: str):
    """Follows a redirect that leaves for `tenant`'s host in a client of that host."""
    assert host(url) == host_of(tenant), url
    client = client_for(tenant)
    return client, client.get(local(url))


# --- SSO mandatory ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sso_mandatory_a_public_log_in_is_not_handed_over(sso_mandatory, staff):
    public = client_for(None)
    assert log_in(public, staff.email).status_code == 302  # the public site has no such policy
    switch = public.post(f"/switch/{sso_mandatory.slug}/")
    assert local(switch["Location"]) == "/sso/login/"
    alpha, landed = follow_to(sso_mandatory, switch["Location"])
    assert landed.status_code == 200 and not logged_in(alpha)
    assert alpha.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_sso_mandatory_a_hand_over_token_does_not_log_in(sso_mandatory, staff):
    alpha, landed = follow_to(sso_mandatory, handover_url(user=staff, tenant=sso_mandatory, mfa_verified=True))
    assert landed["Location"] == "/sso/login/"
    assert not logged_in(alpha)
    page = alpha.get("/sso/login/").content.decode()
    assert "signs in through its identity provider" in page


@pytest.mark.django_db
def test_sso_mandatory_the_switcher_sends_to_the_sso_page(sso_mandatory, tenant_b, staff):
    beta = client_for(tenant_b, staff)
    set_mfa_state(beta, mfa.VERIFIED)
    switch = beta.post(f"/switch/{sso_mandatory.slug}/")
    assert local(switch["Location"]) == "/sso/login/"
    alpha, landed = follow_to(sso_mandatory, switch["Location"])
    assert landed.status_code == 200 and not logged_in(alpha)
    # Other members of alpha (outside the SSO domain) are still handed over.
    owner = sso_mandatory.memberships.get(role="owner").user
    Membership.objects.create(user=owner, tenant=tenant_b, role="member")
    beta_owner = client_for(tenant_b, owner)
    set_mfa_state(beta_owner, mfa.NONE)
    switch = beta_owner.post(f"/switch/{sso_mandatory.slug}/")
    alpha, landed = follow_to(sso_mandatory, switch["Location"])
    assert logged_in(alpha) and alpha.get("/").status_code == 200


def passkey_log_in(user, tenant):
    """A passwordless passkey log-in of `user` on `tenant`'s host: the client and the ceremony's answer."""
    client = client_for(tenant)
    return client, SoftPasskey(user, host_of(tenant)).log_in(client)


def invite(tenant, email) -> str:
    owner = tenant.memberships.get(role="owner")
    _, token = invitation_create(actor=owner, email=email, role="member")
    return f"/invitations/{token}/"


@pytest.mark.django_db
def test_sso_mandatory_an_invited_newcomer_gets_no_password_and_goes_to_the_idp(sso_mandatory):
    link = invite(sso_mandatory, "newcomer@example.org")
    client = client_for(sso_mandatory)
    page = client.get(link).content.decode()
    assert "Accept and continue to single sign-on" in page and "password1" not in page
    response = client.post(link, {"password1": "a-long-good-password-9", "password2": "a-long-good-password-9"})
    assert response["Location"] == "/sso/login/"
    assert not logged_in(client)
    user = User.objects.get(email="newcomer@example.org")
    assert not user.has_usable_password()
    assert Membership.objects.filter(user=user, tenant=sso_mandatory, role="member").exists()
    assert Invitation.objects.get(email="newcomer@example.org").accepted_at is not None


@pytest.mark.django_db
def test_sso_mandatory_an_existing_account_accepts_by_the_link_and_goes_to_the_idp(sso_mandatory, tenant_b):
    other = User.objects.create_user(email="elsewhere@example.org", password=PASSWORD)
    Membership.objects.create(user=other, tenant=tenant_b, role="owner")
    link = invite(sso_mandatory, other.email)
    client = client_for(sso_mandatory)
    response = client.post(link)
    assert response["Location"] == "/sso/login/"
    assert not logged_in(client)
    assert Membership.objects.filter(user=other, tenant=sso_mandatory).exists()
    assert other.check_password(PASSWORD)  # the account is otherwise untouched


@pytest.mark.django_db
def test_sso_mandatory_a_passkey_does_not_log_in(sso_mandatory, staff):
    client, response = passkey_log_in(staff, sso_mandatory)
    assert response.status_code == 403, response.content
    assert "requires single sign-on" in response.json()["detail"]
    assert not logged_in(client)


@pytest.mark.django_db
def test_sso_mandatory_a_session_that_got_in_otherwise_is_logged_out(sso_mandatory, staff):
    client = client_for(sso_mandatory, staff)
    set_mfa_state(client, mfa.NONE)
    response = client.get("/members/")
    assert response["Location"] == "/sso/login/"
    assert not logged_in(client)


@pytest.mark.django_db
def test_sso_mandatory_the_idps_own_log_in_enters(sso_mandatory, staff):
    client = client_for(sso_mandatory, staff)
    set_mfa_state(client, mfa.SSO)
    assert client.get("/").status_code == 200


# --- MFA required -------------------------------------------------------------------------------


@pytest.fixture
def member(tenant_a, tenant_b):
    """A member of alpha and beta, outside any SSO domain."""
    return member_of("member@example.com", tenant_a, tenant_b)


@pytest.mark.django_db
def test_mfa_required_a_public_log_in_without_a_factor_lands_on_enrolment(mfa_required, member):
    public = client_for(None)
    log_in(public, member.email)
    switch = public.post(f"/switch/{mfa_required.slug}/")
    alpha, landed = follow_to(mfa_required, switch["Location"])
    assert landed["Location"] == "/security/"
    assert alpha.get("/")["Location"] == "/security/"


@pytest.mark.django_db
def test_mfa_required_a_public_log_in_with_a_checked_factor_enters(mfa_required, member):
    device = TOTPDevice.objects.create(user=member, name="app", key="ab" * 20, confirmed=True)
    public = client_for(None)
    assert log_in(public, member.email)["Location"] == "/accounts/2fa/"
    assert public.post("/accounts/2fa/", {"code": authenticator_code(device, steps_ahead=0)}).status_code == 302
    switch = public.post(f"/switch/{mfa_required.slug}/")
    alpha, landed = follow_to(mfa_required, switch["Location"])
    assert landed["Location"] == "/"
    assert alpha.get("/").status_code == 200


@pytest.mark.django_db
def test_mfa_required_the_switcher_hands_over_an_unchecked_session_to_verification(mfa_required, tenant_b, member):
    TOTPDevice.objects.create(user=member, name="app", key="ab" * 20, confirmed=True)
    beta = client_for(tenant_b, member)
    set_mfa_state(beta, mfa.NONE)  # logged in before the factor was added
    switch = beta.post(f"/switch/{mfa_required.slug}/")
    alpha, landed = follow_to(mfa_required, switch["Location"])
    assert landed["Location"].startswith("/accounts/2fa/")
    assert alpha.get("/members/")["Location"].startswith("/accounts/2fa/")


@pytest.mark.django_db
def test_mfa_required_the_switcher_without_a_factor_lands_on_enrolment(mfa_required, tenant_b, member):
    beta = client_for(tenant_b, member)
    set_mfa_state(beta, mfa.NONE)
    alpha, landed = follow_to(mfa_required, beta.post(f"/switch/{mfa_required.slug}/")["Location"])
    assert landed["Location"] == "/security/"


@pytest.mark.django_db
def test_mfa_required_an_invited_newcomer_goes_to_enrolment(mfa_required):
    link = invite(mfa_required, "joiner@example.com")
    client = client_for(mfa_required)
    response = client.post(
        link, {"full_name": "Joiner", "password1": "a-long-good-password-9", "password2": "a-long-good-password-9"}
    )
    assert response["Location"] == "/security/"
    assert logged_in(client)
    assert client.get("/")["Location"] == "/security/"


@pytest.mark.django_db
def test_mfa_required_a_passkey_log_in_enters(mfa_required, member):
    client, response = passkey_log_in(member, mfa_required)
    assert response.status_code == 200, response.content
    assert client.session[mfa.MFA_STATE_KEY] == mfa.VERIFIED
    assert client.get("/").status_code == 200


def test_the_entry_pages_are_the_tenants():
    from apps.identity.entry import ENROL, SSO_LOGIN, VERIFY, entry_path

    assert settings.ROOT_URLCONF == "config.urls_tenant"
    assert entry_path(SSO_LOGIN) == "/sso/login/"
    assert entry_path(VERIFY, "/members/") == "/accounts/2fa/?next=/members/"
    assert entry_path(ENROL) == "/security/"
