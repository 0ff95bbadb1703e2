"""allauth's pages in the hub's layout: one card each, one wording ("Log in", "Sign up", "Log out"), the
other ways in inside the card, no sign-up link where sign-up is closed, the email-addresses list."""

import re

import pytest
from allauth.account.models import EmailAddress

from apps.identity.mfa import tenant_security_forget
from apps.identity.models import TenantSecurity
from tests.conftest import client_for

STOCK_WORDS = re.compile(r"Sign In|Sign Up|Sign Out|Signup|sign in|sign out")


def card_of(response) -> str:
    html = response.content.decode()
    start = html.index('<section class="card auth-card">')
    return html[start : html.index("</section>", start)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, logged_in",
    [
        ("/accounts/login/", False),
        ("/accounts/signup/", False),
        ("/accounts/password/reset/", False),
        ("/accounts/login/code/", False),
        ("/accounts/password/reset/done/", False),
        ("/accounts/confirm-email/", False),
        ("/accounts/logout/", True),
        ("/accounts/password/change/", True),
        ("/accounts/email/", True),
        ("/accounts/reauthenticate/", True),
    ],
)
@pytest.mark.parametrize("on_tenant", [True, False])
def test_every_account_page_is_one_card_in_the_hub_wording(path, logged_in, on_tenant, tenant_a, owner_a):
    client = client_for(tenant_a if on_tenant else None, owner_a if logged_in else None)
    response = client.get(path)
    assert response.status_code == 200, path
    html = response.content.decode()
    assert html.count('class="card auth-card"') == 1
    assert card_of(response).count("<h1>") == 1
    assert not STOCK_WORDS.search(html), STOCK_WORDS.search(html)
    assert "<hr" not in html  # dividers are labelled ("or"), never a bare rule


@pytest.fixture
def sso_on(tenant_a):
    """Alpha with single sign-on turned on (its cached policy forgotten before and after)."""
    TenantSecurity.objects.create(tenant=tenant_a, sso_enabled=True)
    tenant_security_forget(tenant=tenant_a)
    yield
    tenant_security_forget(tenant=tenant_a)


@pytest.mark.django_db
def test_the_single_sign_on_button_shows_only_where_it_is_set_up(tenant_a):
    tenant_security_forget(tenant=tenant_a)
    assert "single sign-on" not in card_of(client_for(tenant_a).get("/accounts/login/"))


@pytest.mark.django_db
def test_tenant_log_in_page_has_its_other_ways_inside_the_card_and_no_sign_up_link(tenant_a, sso_on):
    response = client_for(tenant_a).get("/accounts/login/")
    card = card_of(response)
    assert "<h1>Log in to Alpha Ltd</h1>" in card
    assert re.search(r'<button type="submit" class="button[^"]*">Log in</button>', card)
    divider = card.index('class="auth-divider"')
    assert card.index('aria-label="or"') >= divider
    for way in ("Log in with a passkey", "Email me a log-in code", "Log in with single sign-on"):
        assert card.index(way) > divider, way
    html = response.content.decode()
    assert "/accounts/signup/" not in html and "Sign up" not in html


def header_of(response) -> str:
    html = response.content.decode()
    return html[html.index('<header class="topbar">') : html.index("</header>")]


@pytest.mark.django_db
@pytest.mark.parametrize("on_tenant", [True, False])
def test_the_header_offers_no_link_to_the_page_you_are_on(on_tenant, tenant_a, settings):
    settings.HUB_PLATFORM_NAME = "Acme Cloud"
    client = client_for(tenant_a if on_tenant else None)
    login = header_of(client.get("/accounts/login/"))
    assert ">Log in</a>" not in login
    assert (">Sign up</a>" in login) is not on_tenant  # sign-up is on the platform's site only
    reset = header_of(client.get("/accounts/password/reset/"))
    assert ">Log in</a>" in reset
    if not on_tenant:
        signup = header_of(client.get("/accounts/signup/"))
        assert ">Log in</a>" in signup and ">Sign up</a>" not in signup
        assert ">Acme Cloud</a>" in signup  # the platform's name, as configured


@pytest.mark.django_db
def test_remember_me_checkbox_comes_before_its_label(tenant_a):
    card = card_of(client_for(tenant_a).get("/accounts/login/"))
    assert re.search(
        r'<div class="checkbox-row"><input type="checkbox" name="remember"[^>]*id="id_remember">'
        r'<label for="id_remember">Remember me</label>',
        card,
    )
    assert "Remember Me:" not in card


@pytest.mark.django_db
def test_public_log_in_page_offers_sign_up_outside_the_card(tenant_a):
    response = client_for(None).get("/accounts/login/")
    assert "New here?" in response.content.decode()
    assert "/accounts/signup/" not in card_of(response)  # no SSO button on the public site either
    assert "single sign-on" not in card_of(response)


@pytest.mark.django_db
def test_sign_up_on_a_tenant_says_members_join_by_invitation(tenant_a):
    response = client_for(tenant_a).get("/accounts/signup/")
    html = response.content.decode()
    assert "Closed" not in html
    assert "join by invitation" in card_of(response)


@pytest.mark.django_db
def test_wrong_password_error_is_shown_inside_the_card(tenant_a, owner_a):
    response = client_for(tenant_a).post("/accounts/login/", {"login": owner_a.email, "password": "wrong"})
    assert "not correct" in card_of(response)


@pytest.mark.django_db
def test_email_addresses_page_lists_each_address_with_its_badges_and_actions(tenant_a, owner_a):
    EmailAddress.objects.update_or_create(
        user=owner_a, email=owner_a.email, defaults={"primary": True, "verified": True}
    )
    EmailAddress.objects.create(user=owner_a, email="second@alpha.example.com", verified=False)
    client = client_for(tenant_a, owner_a)
    card = card_of(client.get("/accounts/email/"))
    rows = re.findall(r'<li class="email-row">(.*?)</li>', card, re.S)
    assert len(rows) == 2
    primary, second = sorted(rows, key=lambda row: "second@" in row)
    assert 'type="radio"' in primary and 'badge-info">Primary' in primary and "Verified" in primary
    assert "Remove" not in primary  # the primary address cannot be removed
    assert 'badge-warning">Unverified' in second
    assert 'data-confirm="Remove second@alpha.example.com from your account?"' in second
    for action in ("Make primary", "Resend verification", "Add address"):
        assert f">{action}</button>" in card

    response = client.post("/accounts/email/", {"email": "second@alpha.example.com", "action_remove": ""})
    assert response.status_code == 302
    assert not EmailAddress.objects.filter(email="second@alpha.example.com").exists()


@pytest.mark.django_db
def test_email_addresses_page_refuses_a_bad_address(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/accounts/email/", {"email": "not-an-address", "action_add": ""})
    assert response.status_code == 200
    assert "valid email address" in card_of(response)
