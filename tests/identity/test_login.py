import re

import pytest
from django.core import mail

from tests.conftest import PASSWORD, client_for


@pytest.mark.django_db
def test_login_and_logout_on_a_tenant_domain(tenant_a, owner_a):
    client = client_for(tenant_a)
    assert client.get("/")["Location"].startswith("/accounts/login/")
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_wrong_password_rerenders_with_error(tenant_a, owner_a):
    response = client_for(tenant_a).post("/accounts/login/", {"login": owner_a.email, "password": "nope"})
    assert response.status_code == 200
    assert b"not correct" in response.content


@pytest.mark.django_db
def test_session_cookie_is_per_host(tenant_a, tenant_b, owner_a):
    """A login on alpha does not log the user in on beta: the cookie has no Domain attribute."""
    client = client_for(tenant_a)
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD})
    assert response.cookies["sessionid"]["domain"] == ""


@pytest.mark.django_db
def test_password_reset_flow(tenant_a, owner_a):
    client = client_for(tenant_a)
    client.post("/accounts/password/reset/", {"email": owner_a.email})
    body = mail.outbox[-1].body
    link = re.search(r"http://alpha\.localhost(?::\d+)?(/accounts/password/reset/key/\S+)", body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": "brand-new-password-7", "password2": "brand-new-password-7"},
    )
    owner_a.refresh_from_db()
    assert owner_a.check_password("brand-new-password-7")


@pytest.mark.django_db
def test_password_change(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": "changed-password-77", "password2": "changed-password-77"},
    )
    assert response.status_code == 302
    owner_a.refresh_from_db()
    assert owner_a.check_password("changed-password-77")


def test_argon2id_at_owasp_parameters():
    import argon2

    from apps.identity.hashers import Argon2idHasher

    encoded = Argon2idHasher().encode("secret", Argon2idHasher().salt())
    params = argon2.extract_parameters(encoded.split("argon2", 1)[1])
    assert params.type is argon2.Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19456, 2, 1)


@pytest.mark.django_db
def test_switcher_hands_over_to_another_membership(tenant_a, tenant_b, owner_a):
    from apps.identity.models import Membership

    Membership.objects.create(user=owner_a, tenant=tenant_b, role="member")
    client = client_for(tenant_a, owner_a)
    home = client.get("/")
    assert b"Beta Ltd" in home.content
    response = client.post("/switch/beta/")
    assert response["Location"].startswith("http://beta.localhost:8000/accounts/handover/")
    beta = client_for(tenant_b)
    beta.get(response["Location"].split("8000", 1)[1])
    assert beta.get("/").status_code == 200


@pytest.mark.django_db
def test_switch_to_a_tenant_one_does_not_belong_to_is_404(tenant_a, tenant_b, owner_a):
    assert client_for(tenant_a, owner_a).post("/switch/beta/").status_code == 404


@pytest.mark.django_db
def test_repeated_failed_logins_are_rate_limited(tenant_a, owner_a):
    client = client_for(tenant_a)
    for _ in range(5):
        client.post("/accounts/login/", {"login": owner_a.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert b"Too many failed login attempts" in response.content
    assert "_auth_user_id" not in client.session
