"""Identity in a real Chromium: enrol an authenticator app, log out, log in with password + code;
log in through a tenant's SAML identity provider (a real pysaml2 IdP served on a local port)."""

import base64
import re
import secrets
import threading
import time
import urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django_otp.oath import hotp
from playwright.sync_api import expect

from tests.browser.conftest import csp_violations, finish_sign_up
from tests.conftest import PASSWORD
from tests.identity.saml_idp import TestIdP

pytestmark = pytest.mark.browser


def tenant_url(live_hub, slug, path="/"):
    return live_hub.replace("//localhost", f"//{slug}.localhost") + path


def code_for(secret_text: str, at: float) -> str:
    """The authenticator app's code at time `at` (RFC 6238, 30 s steps, 6 digits)."""
    compact = secret_text.replace(" ", "")
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    return f"{hotp(key, int(at) // 30, digits=6):06d}"


def sign_up(page, live_hub, live_mail, slug, email):
    page.goto(f"{live_hub}/accounts/signup/")
    page.get_by_label("Your name").fill("Jane Doe")
    page.get_by_label("Organisation name").fill("MFA Co")
    page.get_by_label("Address").fill(slug)
    page.get_by_label("Email").fill(email)
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    finish_sign_up(page, live_hub, live_mail, email=email, slug=slug)


def test_enrol_totp_log_out_and_log_in_with_password_and_code(live_hub, live_mail, page):
    slug = f"mfa-{secrets.token_hex(3)}"
    email = f"{slug}@example.com"
    sign_up(page, live_hub, live_mail, slug, email)

    page.goto(tenant_url(live_hub, slug, "/security/"))
    page.get_by_role("link", name="Add an authenticator app").click()
    expect(page.locator("#totp-qr")).to_be_visible()
    page.screenshot(path="/tmp/hub-totp-enrol.png", full_page=True)
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label("Code").fill(code_for(secret, time.time()))
    page.get_by_role("button", name="Activate").click()

    # Recovery codes, shown once, then the Security page lists the app.
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have saved them").click()
    expect(page.locator("#factors")).to_contain_text("Authenticator app")
    page.screenshot(path="/tmp/hub-security.png", full_page=True)

    page.goto(tenant_url(live_hub, slug, "/accounts/logout/"))
    page.get_by_role("button", name=re.compile("Sign Out|Log out", re.I)).last.click()
    page.goto(tenant_url(live_hub, slug, "/"))
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(tenant_url(live_hub, slug, "/accounts/2fa/"))
    page.screenshot(path="/tmp/hub-2fa.png", full_page=True)
    # The enrolment used the current time step; the next step's code is accepted (tolerance 1).
    page.get_by_label("Code").fill(code_for(secret, time.time() + 30))
    page.get_by_role("button", name="Verify").click()
    expect(page).to_have_url(tenant_url(live_hub, slug))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert csp_violations(page) == []


# --- SSO through a real IdP ---------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def idp_for_alpha(live_hub, django_db_blocker):
    """A pysaml2 IdP on a local port, and alpha's SSO pointed at it (committed, undone after)."""
    from django.db import connection

    from apps.identity import mfa
    from apps.identity.models import TenantSecurity
    from apps.tenancy.models import Tenant

    server = make_server("127.0.0.1", 0, lambda e, s: app(e, s), handler_class=_QuietHandler)
    idp = TestIdP(base_url=f"http://127.0.0.1:{server.server_port}")
    email = f"sso-{secrets.token_hex(3)}@example.org"
    app = idp.wsgi_app(email)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    port = live_hub.rsplit(":", 1)[1]

    def configure(enabled: bool):
        # In a thread of its own: its own (autocommitting) connection, outside Playwright's event loop.
        with django_db_blocker.unblock():
            tenant = Tenant.objects.get(slug="alpha")
            if enabled:
                TenantSecurity.objects.update_or_create(
                    tenant=tenant,
                    defaults={
                        "sso_enabled": True,
                        "idp_metadata_xml": idp.metadata_xml(),
                        "idp_entity_id": idp.entity_id,
                        "sso_domains": ["example.org"],
                        "sso_default_role": "member",
                    },
                )
            else:
                TenantSecurity.objects.filter(tenant=tenant).delete()
            mfa.tenant_security_forget(tenant=tenant)
            connection.close()

    def in_thread(enabled: bool):
        worker = threading.Thread(target=configure, args=(enabled,))
        worker.start()
        worker.join()

    in_thread(True)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/saml2/metadata/", headers={"Host": f"alpha.localhost:{port}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        idp.trust_sp(response.read().decode())
    yield email
    server.shutdown()
    in_thread(False)


def test_log_in_through_the_tenants_identity_provider(live_hub, page, idp_for_alpha):
    page.goto(tenant_url(live_hub, "alpha", "/sso/login/"))
    page.get_by_role("link", name="Continue to your identity provider").click()
    expect(page.get_by_role("heading", name="Hub test IdP")).to_be_visible()
    page.get_by_role("button", name="Continue to the service").click()
    expect(page).to_have_url(tenant_url(live_hub, "alpha"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    page.goto(tenant_url(live_hub, "alpha", "/security/sessions/"))
    expect(page.locator("#sessions-table")).to_contain_text("this session")
    page.screenshot(path="/tmp/hub-sessions.png", full_page=True)


# --- Passkeys (Chromium's virtual authenticator) ---------------------------------------------------


def add_virtual_authenticator(page):
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp


def test_passkey_as_second_factor_and_for_passwordless_log_in(live_hub, live_mail, page):
    slug = f"pk-{secrets.token_hex(3)}"
    email = f"{slug}@example.com"
    add_virtual_authenticator(page)
    sign_up(page, live_hub, live_mail, slug, email)

    page.goto(tenant_url(live_hub, slug, "/security/"))
    page.get_by_role("button", name="Add a passkey").click()
    # The first factor comes with recovery codes, shown once.
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    page.get_by_role("button", name="I have saved them").click()
    expect(page.locator("#factors")).to_contain_text("Passkey")

    def log_out():
        page.goto(tenant_url(live_hub, slug, "/accounts/logout/"))
        page.get_by_role("button", name=re.compile("Sign Out|Log out", re.I)).last.click()
        page.goto(tenant_url(live_hub, slug, "/"))
        expect(page).to_have_url(re.compile(r"/accounts/login/"))

    # Second factor after the password.
    log_out()
    page.get_by_label("Email").fill(email)
    page.locator("#id_password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page).to_have_url(tenant_url(live_hub, slug, "/accounts/2fa/"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(tenant_url(live_hub, slug))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")

    # Passwordless: no email, no password.
    log_out()
    page.get_by_role("button", name="Log in with a passkey").click()
    expect(page).to_have_url(tenant_url(live_hub, slug))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    assert csp_violations(page) == []
