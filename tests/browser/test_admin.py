"""The platform admin in a real Chromium: styled by its own assets under the content security policy."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser

OPERATOR = "operator-browser@example.com"


@pytest.fixture(scope="module")
def operator(_session_tenants, django_db_blocker):
    from apps.identity.models import User

    def make():
        user = User.objects.filter(email=OPERATOR).first() or User.objects.create_superuser(
            email=OPERATOR, password=PASSWORD
        )
        return user.pk

    with django_db_blocker.unblock():
        return committed(make)


@pytest.mark.parametrize("path", ["/admin/", "/admin/identity/user/", "/admin/tenancy/tenant/", "/admin/overview/"])
def test_admin_pages_are_styled_and_break_no_policy(live_hub, page, operator, path):
    page.goto(f"{live_hub}/admin/login/")
    page.locator("#id_username").fill(OPERATOR)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    expect(page.locator("#site-name")).to_have_text("ReactDjango-Hub operations")
    response = page.goto(f"{live_hub}{path}")
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert "Django administration" not in page.title()
    # admin/css/base.css draws the header in its colours: a blocked stylesheet leaves it transparent.
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor") != "rgba(0, 0, 0, 0)"
    assert csp_violations(page) == []
