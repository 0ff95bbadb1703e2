"""Each tenant host trusts only itself for CSRF: a form posted from another tenant's page (or the
public site) is refused even with a valid token, so one tenant's pages can never act on another
tenant with the visitor's cookie there."""

import pytest
from django.conf import settings
from django.test import Client

TOKEN = "a" * 32  # a CSRF secret, sent as the cookie and as the form's token
PORT = settings.HUB_BASE_DOMAIN.partition(":")[2]
ALPHA = f"alpha.localhost:{PORT}" if PORT else "alpha.localhost"
BETA = f"beta.localhost:{PORT}" if PORT else "beta.localhost"


def post(user, *, secure=False, **headers):
    """A logged-in POST with a valid CSRF cookie and token to one of alpha's forms."""
    client = Client(HTTP_HOST=ALPHA, enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = TOKEN
    return client.post("/notifications/read-all/", {"csrfmiddlewaretoken": TOKEN}, secure=secure, **headers)


@pytest.mark.parametrize("origin", [f"http://{BETA}", f"http://{settings.HUB_BASE_DOMAIN}", "http://evil.example.com"])
def test_a_post_from_another_hosts_page_is_refused(tenant_a, tenant_b, owner_a, origin):
    assert post(owner_a, HTTP_ORIGIN=origin).status_code == 403


def test_over_https_a_post_referred_by_another_tenant_is_refused(tenant_a, tenant_b, owner_a):
    # Without an Origin header Django checks the Referer of https requests.
    assert post(owner_a, secure=True, HTTP_REFERER=f"https://{BETA}/").status_code == 403


def test_a_post_from_the_hosts_own_page_is_accepted(tenant_a, owner_a):
    assert post(owner_a, HTTP_ORIGIN=f"http://{ALPHA}").status_code == 302
    assert post(owner_a, secure=True, HTTP_REFERER=f"https://{ALPHA}/notifications/").status_code == 302


def test_no_origin_is_trusted_by_default():
    assert settings.CSRF_TRUSTED_ORIGINS == []
