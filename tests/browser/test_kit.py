"""The UI kit in a real Chromium: axe-core finds no serious or critical accessibility violation on
any page of the shell, in the light and dark themes, on a desktop and a 390x844 phone (and each
page is photographed to test-results/screenshots/); the confirmation dialog, copy button, toasts
and form errors behave."""

import secrets
import time

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from apps.content import services as content
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import (  # noqa: F401
    SCREENSHOTS,
    axe_violations,
    chromium,
    csp_violations,
    live_hub,
    new_context,
    save_screenshot,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

SHELL_PAGES = {
    "home": "/",
    "members": "/members/",
    "security": "/security/",
    "sessions": "/security/sessions/",
    "profile": "/profile/",
    "notifications": "/notifications/",
    "webhooks": "/webhooks/",
    "api-keys": "/developers/keys/",
    "style-guide": "/style-guide/",
    "activity": "/activity/",
    "notification-preferences": "/notifications/preferences/",
    "audit-log": "/audit-log/",
    "organisation-settings": "/settings/",
    "security-settings": "/settings/security/",
    "create-organisation": "/organisations/new/",
    "email-addresses": "/accounts/email/",
    "change-password": "/accounts/password/change/",
    "authenticator": "/security/authenticator/",
    "webhook": "/webhooks/{endpoint}/",
    "hello-plugin": "/plugins/hello/",
    "files": "/content/",
    "files-folder": "/content/folders/{folder}/",
    "files-document": "/content/documents/{document}/",
    "files-trash": "/content/trash/",
}
PUBLIC_PAGES = {"landing": "/", "sign-up": "/accounts/signup/", "password-reset": "/accounts/password/reset/"}
CODE_LIKE = ("<", "{", "None", "_", "  ")


@pytest.fixture(scope="module")
def kit_tenant(django_db_setup, django_db_blocker):
    """A tenant of its own whose owner is platform staff (the style guide is for staff), with a
    pending invitation so that the members page shows its tables, and a webhook endpoint."""
    from django_tenants.utils import tenant_context

    from apps.identity.models import Membership
    from apps.identity.services import invitation_create
    from apps.notifications.models import WebhookEndpoint

    slug = f"kit-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Kit and Components Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        owner.is_staff = True
        owner.save(update_fields=["is_staff"])
        invitation_create(
            actor=Membership.objects.get(tenant=tenant, user=owner), email="bob@example.com", role="member"
        )
        with tenant_context(tenant):
            tenant.endpoint = WebhookEndpoint.objects.create(
                url="https://hooks.example.com/in", event_types=[], secret="whsec_kit"
            ).pk
        folder = content.folder_create(tenant=tenant, actor=owner, name="Reports")
        tenant.folder = folder.pk
        tenant.document = content.document_upload(
            tenant=tenant, actor=owner, fileobj=ContentFile(b"Q3: up 12 %", name="q3.txt"), name="Q3 report.txt",
            folder=folder, note="First draft",
        ).pk  # fmt: skip
        try:
            yield tenant, owner
        finally:
            tenant_delete(tenant=tenant)


def url(live_hub, tenant, path="/"):  # noqa: F811
    return live_hub.replace("//localhost", f"//{tenant.slug}.localhost") + path


def log_in(page, live_hub, tenant, owner):  # noqa: F811
    page.goto(url(live_hub, tenant, "/accounts/login/"))
    page.locator("input[name=login]").fill(owner.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(url(live_hub, tenant))
    page.wait_for_load_state("load")


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_kit_tenant_is_served_on_its_domain(kit_tenant):
    tenant, owner = kit_tenant
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost" and owner.is_staff


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_shell_page_passes_axe(kit_tenant, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner = kit_tenant
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)  # axe is an inline script
    page = context.new_page()
    found = {}
    try:
        for name, path in PUBLIC_PAGES.items():
            page.goto(f"{live_hub}{path}")
            found[name] = axe_violations(page) + page_problems(page, viewport)
            save_screenshot(page, name)
        page.goto(url(live_hub, tenant, "/accounts/login/"))
        found["log-in"] = axe_violations(page) + page_problems(page, viewport)
        save_screenshot(page, "log-in")
        log_in(page, live_hub, tenant, owner)
        for name, path in SHELL_PAGES.items():
            response = page.goto(
                url(
                    live_hub,
                    tenant,
                    path.format(endpoint=tenant.endpoint, folder=tenant.folder, document=tenant.document),
                )
            )
            assert response.status == 200, (name, response.status)
            expect(page.locator("html")).to_have_attribute("data-theme", theme)
            found[name] = axe_violations(page) + page_problems(page, viewport, suffix=f" · {tenant.name}")
            save_screenshot(page, name)
    finally:
        context.close()
    failures = {name: lines for name, lines in found.items() if lines}
    assert failures == {}, "\n".join(f"{name}: {line}" for name, lines in failures.items() for line in lines)


def page_problems(page, viewport, suffix="") -> list[str]:
    """What a page must not have: a title that is empty or reads like code (and, in a tenant, one that
    does not end with the organisation's name), other than exactly one h1, or (on a phone) a width
    that scrolls sideways (wide tables scroll inside their .table-wrap)."""
    problems = []
    title = page.title()
    words = title.removesuffix(suffix).strip()
    if not words or any(bit in title for bit in CODE_LIKE) or (suffix and not title.endswith(suffix)):
        problems.append(f"the title reads “{title}”")
    if (h1s := page.locator("h1").count()) != 1:
        problems.append(f"{h1s} h1 headings")
    if viewport == "phone" and (width := page.evaluate("document.documentElement.scrollWidth")) > 390:
        problems.append(f"the page is {width}px wide on a 390px phone")
    # The organisation's name in the top bar stays on one line (cut with an ellipsis if long: the
    # kit's tenant has a long one).
    name = page.locator(".switcher .tenant-name")
    one_line = "el => el.getBoundingClientRect().height < 1.5 * parseFloat(getComputedStyle(el).lineHeight)"
    if name.count() and not name.evaluate(one_line):
        problems.append("the organisation's name wraps in the top bar")
    return problems


# --- Behaviours, on the style guide --------------------------------------------------------


@pytest.fixture
def guide(kit_tenant, live_hub, chromium):  # noqa: F811
    tenant, owner = kit_tenant
    context = new_context(chromium)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url(live_hub, tenant, "").rstrip("/"))
    page = context.new_page()
    page.console = []
    page.on("console", lambda message: page.console.append(f"{message.type}: {message.text}"))
    log_in(page, live_hub, tenant, owner)
    page.goto(url(live_hub, tenant, "/style-guide/"))
    yield page
    context.close()


def test_cancelling_the_confirmation_sends_nothing(guide):
    page = guide
    page.get_by_role("button", name="Remove Bob").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Remove Bob from Kit and Components Ltd?")
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    # Escape cancels too.
    page.get_by_role("button", name="Remove Bob").click()
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.wait_for_timeout(300)
    expect(page.locator(".message")).to_have_count(0)
    assert "/style-guide/" in page.url


def test_confirming_sends_the_form_once_and_shows_a_toast(guide):
    page = guide
    page.get_by_role("button", name="Remove Bob").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove", exact=True).click()
    toast = page.locator(".message-success")
    expect(toast).to_have_text("Confirmed: the “remove” form was sent.")
    # A toast: announced politely, dismissable, and gone by itself after a while.
    expect(page.locator(".messages")).to_have_attribute("aria-live", "polite")
    expect(toast.get_by_role("button", name="Dismiss")).to_be_visible()
    toast.get_by_role("button", name="Dismiss").click()
    expect(toast).to_have_count(0)


def test_typed_confirmation_waits_for_the_exact_text(guide):
    page = guide
    page.get_by_role("button", name="Delete organisation").click()
    dialog = page.get_by_role("dialog")
    field = dialog.get_by_label("Type “acme” to confirm")
    confirm = dialog.get_by_role("button", name="Delete", exact=True)
    expect(field).to_be_focused()
    expect(confirm).to_be_disabled()
    field.fill("acm")
    expect(confirm).to_be_disabled()
    field.press("Enter")  # Enter does not get round it
    expect(dialog).to_be_visible()
    field.fill("acme")
    expect(confirm).to_be_enabled()
    field.press("Enter")  # now Enter confirms
    expect(page.locator(".message-success")).to_have_text("Confirmed: the “delete” form was sent.")
    # Asked again, the dialog starts empty and the button disabled.
    page.get_by_role("button", name="Delete organisation").click()
    expect(field).to_have_value("")
    expect(confirm).to_be_disabled()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_copy_button_copies_and_says_so(guide):
    page = guide
    button = page.locator("#kit-copy").get_by_role("button", name="Copy")
    button.click()
    expect(page.locator("#kit-copy [data-copy]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == "hub_live_3f9a1c0b7e2d"
    expect(page.locator(".message-success", has_text="Copied to the clipboard.")).to_be_visible()
    expect(page.locator("#kit-copy [data-copy]")).to_have_text("Copy", timeout=4000)


def test_toasts_from_script_and_errors_stay(guide):
    page = guide
    page.get_by_role("button", name="Show an error").click()
    error = page.locator(".message-error")
    expect(error).to_have_text("The endpoint did not answer.")
    page.get_by_role("button", name="Show a toast").click()
    success = page.locator(".message-success")
    expect(success).to_have_text("Bob is now an admin.")
    # A success goes away by itself; an error stays until dismissed.
    expect(success).to_have_count(0, timeout=9000)
    expect(error).to_be_visible()
    # The kit's scripts and styles live within the content security policy.
    assert csp_violations(page) == []


def test_form_errors_sit_under_their_fields_and_mark_them(guide):
    page = guide
    form = page.locator("#sample-form")
    form.get_by_label("Email", exact=False).first.fill("jane@")
    form.get_by_role("button", name="Check the form").click()
    email = page.locator("#id_sample-email")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_attribute("aria-describedby", "id_sample-email_error")
    error = page.locator("#id_sample-email_error")
    expect(error).to_have_text("Enter a valid email address.")
    # Under the field, not above its label.
    assert error.bounding_box()["y"] > email.bounding_box()["y"]
    assert (
        page.evaluate("getComputedStyle(document.querySelector('#id_sample-email')).borderTopColor")
        == "rgb(192, 53, 43)"
    )
    # Labels carry no colon; the checkbox sits before its label, on one line.
    expect(page.locator("label[for=id_sample-email]")).to_have_text("Email *")
    box, label = page.locator("#id_sample-notify"), page.locator("label[for=id_sample-notify]")
    assert box.bounding_box()["x"] < label.bounding_box()["x"]
    assert abs(box.bounding_box()["y"] - label.bounding_box()["y"]) < 12


def test_submit_button_is_busy_while_the_form_is_sent(guide):
    page = guide

    def slow_post(route):
        if route.request.method == "POST":
            time.sleep(0.6)  # the server "works": the page shows the busy button meanwhile
        route.continue_()

    page.route("**/style-guide/", slow_post)
    # The page notes the button's state a moment after the submit (sessionStorage outlives the page).
    page.evaluate(
        """() => {
        const button = document.querySelector("button[value=message]");
        button.form.addEventListener("submit", () => setTimeout(() => sessionStorage.setItem("busy",
            `${button.disabled} ${button.getAttribute("aria-busy")}`), 100));
    }"""
    )
    page.get_by_role("button", name="Send a server message").click()
    expect(page.locator(".message-success")).to_have_text("Confirmed: the “message” form was sent.")
    assert page.evaluate("sessionStorage.getItem('busy')") == "true true"
    # The next page's button is ready again.
    expect(page.get_by_role("button", name="Send a server message")).to_be_enabled()


def test_htmx_form_is_busy_and_the_page_shows_loading_until_the_answer(guide):
    page = guide

    def slow_post(route):
        if route.request.method == "POST":
            time.sleep(0.6)
        route.continue_()

    page.route("**/style-guide/", slow_post)
    page.evaluate(
        """() => document.addEventListener("htmx:beforeSend", () => setTimeout(() => {
            const button = document.querySelector("button[value=htmx]");
            window.seen = `${button.disabled} ${button.getAttribute("aria-busy")} ` +
                document.querySelector("#page-loading").classList.contains("htmx-request");
        }, 100))"""
    )
    page.get_by_role("button", name="Refresh with htmx").click()
    expect(page.locator("#kit-htmx-out")).to_contain_text("Answered just now.")
    assert page.evaluate("window.seen") == "true true true"  # the same page: no reload
    expect(page.get_by_role("button", name="Refresh with htmx")).to_be_enabled()
    expect(page.get_by_role("button", name="Refresh with htmx")).not_to_have_attribute("aria-busy", "true")


def test_skip_link_is_the_first_tab_stop(guide):
    page = guide
    page.keyboard.press("Tab")
    focused = page.locator(":focus")
    expect(focused).to_have_text("Skip to content")
    focused.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_without_javascript_confirmed_forms_submit_and_messages_are_a_plain_list(kit_tenant, live_hub, chromium):  # noqa: F811
    tenant, owner = kit_tenant
    context = new_context(chromium, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/style-guide/"))
        page.get_by_role("button", name="Remove Bob").click()  # no dialog: the form just submits
        message = page.locator(".message-success")
        expect(message).to_have_text("Confirmed: the “remove” form was sent.")
        assert message.evaluate("m => getComputedStyle(m.parentElement).position") == "static"
        expect(message.get_by_role("button")).to_have_count(0)  # nothing to dismiss it with
    finally:
        context.close()


@pytest.mark.parametrize(("theme", "viewport"), [("light", "desktop"), ("dark", "phone")])
def test_dialog_and_toast_look(kit_tenant, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner = kit_tenant
    context = new_context(chromium, theme=theme, viewport=viewport)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/style-guide/#kit-confirm"))
        page.get_by_role("button", name="Show a toast").click()
        page.get_by_role("button", name="Delete organisation").click()
        page.get_by_role("dialog").get_by_role("textbox").fill("acm")
        expect(page.get_by_role("dialog")).to_be_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"confirm-dialog-{theme}-{viewport}.png"))
    finally:
        context.close()
