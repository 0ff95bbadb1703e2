"""The security pages in a real Chromium: an admin finds Security incidents in the navigation,
opens an incident, ends the person's sessions (asked once, in the kit's dialog), dismisses another,
turns on an automatic response, checks the security posture and follows a finding's fix link; the
pages pass axe and are photographed (light desktop, dark phone)."""

import re
import secrets
import time

import pytest
from playwright.sync_api import expect

from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser


def _raise_incidents(tenant, person):
    from django_tenants.utils import schema_context

    from apps.security import detect
    from apps.security.services import incident_raise

    now = time.time()
    findings = [
        detect.Finding(
            "brute_force", "ip:203.0.113.9",
            "Failed log-ins for 7 different accounts from 203.0.113.9 within 10 minutes",
            now - 3600, ip="203.0.113.9", details={"accounts": 7},
        ),
        detect.Finding(
            "impossible_travel", f"user:{person.pk}",
            f"{person.email} logged in from Sydney, Australia 12 minutes after a log-in from London, United Kingdom "
            "(16,990 km away: 84,950 km/h)",
            now - 600, user_id=person.pk, email=person.email, ip="203.0.113.30",
        ),
        detect.Finding(
            "new_device", f"user:{person.pk}:Firefox on Windows", f"{person.email} logged in from a new device: "
            "Firefox on Windows", now - 60, user_id=person.pk, email=person.email, ip="192.0.2.10",
        ),
    ]  # fmt: skip
    with schema_context(tenant.schema_name):
        return [incident_raise(tenant=tenant, finding=f) for f in findings]


@pytest.fixture(scope="module")
def guarded(django_db_setup, django_db_blocker):
    """A tenant of its own with a member and three incidents, made and deleted in a thread."""
    slug = f"guard-{secrets.token_hex(3)}"

    def provision():
        from apps.identity.models import Membership, User

        tenant, owner = organisation_provision(
            name="Guarded Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        person = User.objects.create_user(email=f"dana@{slug}.example.com", password=PASSWORD, full_name="Dana Reyes")
        Membership.objects.create(tenant=tenant, user=person, role="member")
        return tenant, owner, person, _raise_incidents(tenant, person)

    with django_db_blocker.unblock():
        made = committed(provision)  # threads of their own that give their connection back
        try:
            yield made
        finally:
            committed(lambda: tenant_delete(tenant=made[0]))


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_guarded_tenant_exists(guarded):
    assert guarded[0].domains.exists() and all(guarded[3])


def test_an_admin_responds_to_an_incident(chromium, live_hub, guarded):  # noqa: F811
    tenant, owner, person, (brute, travel, _device) = guarded
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("link", name="Security incidents").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Security incidents")
        expect(page.locator(f'tr[data-incident="{travel.pk}"]')).to_contain_text("Impossible travel")
        expect(page.locator("[data-geo-off]")).to_contain_text("No GeoIP database is configured")
        page_checked(page, "security-incidents")
        page.locator(f'tr[data-incident="{travel.pk}"]').get_by_role("link", name=f"#{travel.pk}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Impossible travel #{travel.pk}")
        page.get_by_role("button", name="End their sessions").click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(f"End their sessions for {person.email}?")
        dialog.get_by_role("button", name="End their sessions").click()
        expect(page.locator(".message-success")).to_contain_text(f"sessions of {person.email}")
        expect(page.locator('tr[data-response="end_sessions"]')).to_contain_text(owner.get_full_name())
        page_checked(page, "security-incident")
        page.get_by_label("Dismissed: it was not a threat").check()
        page.get_by_label("Note").fill("Dana was on a VPN")
        page.get_by_role("button", name="Close the incident").click()
        expect(page.locator(".message-success")).to_contain_text(f"Incident #{travel.pk} closed.")
        expect(page.locator(".lead")).to_contain_text("Dismissed")
        page.goto(url(live_hub, tenant, "/security-incidents/rules/"))
        card = page.locator('[data-rule="new_device"]')
        card.get_by_label("End their sessions").check()
        card.get_by_role("button", name="Save").click()
        expect(page.locator(".message-success")).to_contain_text("“Log-in from a new device” saved.")
        expect(page.locator('[data-rule="new_device"]').get_by_label("End their sessions")).to_be_checked()
        page_checked(page, "security-rules")
    finally:
        context.close()


def test_the_pages_on_a_phone_in_the_dark(chromium, live_hub, guarded):  # noqa: F811
    tenant, owner, _person, (brute, _travel, _device) = guarded
    context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/security-incidents/"))
        page_checked(page, "security-incidents")
        page.goto(url(live_hub, tenant, f"/security-incidents/{brute.pk}/"))
        page_checked(page, "security-incident")
        page.goto(url(live_hub, tenant, "/security-incidents/rules/"))
        page_checked(page, "security-rules")
        page.goto(url(live_hub, tenant, "/security-incidents/posture/"))
        page.locator("[data-check-again]").click()
        expect(page.locator(".message-success")).to_contain_text("Checked: ")
        page_checked(page, "security-posture")
    finally:
        context.close()


def test_an_admin_checks_the_security_posture_and_follows_a_fix(chromium, live_hub, guarded):  # noqa: F811
    tenant, owner, _person, _incidents = guarded
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/security-incidents/"))
        page.get_by_role("link", name="Security posture").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Security posture")
        page.get_by_role("button", name=re.compile("Check (now|again)")).click()
        expect(page.locator(".message-success")).to_contain_text("Checked: ")
        expect(page.locator("[data-score]")).to_contain_text("/100")
        expect(page.locator('tr[data-finding="admins_without_factor"]')).to_contain_text(owner.email)
        expect(page.locator('tr[data-finding="mfa_policy_off"]')).to_contain_text("Second factors are not required")
        expect(page.locator('tr[data-finding="admins_without_factor"] .badge')).to_have_text("Critical")
        before = page.locator("tr[data-scan]").count()
        page.get_by_role("button", name="Check again").click()
        expect(page.locator("tr[data-scan]")).to_have_count(before + 1)
        expect(page.locator("tr[data-scan]").first).to_contain_text(owner.get_full_name())
        page_checked(page, "security-posture")
        page.locator('tr[data-finding="mfa_policy_off"]').get_by_role("link", name="Fix this").click()
        expect(page).to_have_url(url(live_hub, tenant, "/settings/security/"))
    finally:
        context.close()
