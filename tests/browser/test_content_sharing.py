"""Sharing a document by link and commenting with a mention, in a real Chromium: the owner makes a
password-protected link, a visitor with no account opens it, types the password and downloads the
file; the owner mentions a member through the autocomplete and the member is notified. Pages pass
axe and are photographed (light and dark, desktop and phone)."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import expect

from apps.content import services
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def _in_thread(django_db_blocker, work):
    """Django work off Playwright's event loop (Django refuses queries inside it)."""
    from django.db import connection

    def run():
        try:
            return work()
        finally:
            connection.close()

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
        return pool.submit(run).result()


@pytest.fixture(scope="module")
def studio(django_db_setup, django_db_blocker):
    """A tenant of its own with a document and a second member, made and deleted in a thread."""
    slug = f"studio-{secrets.token_hex(3)}"

    def provision():
        from django_tenants.utils import tenant_context

        from apps.identity.models import Membership, User
        from tests.content.conftest import text_file

        tenant, owner = organisation_provision(
            name="Studio Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        jane = User.objects.create_user(email=f"jane@{slug}.example.com", password=PASSWORD, full_name="Jane Doe")
        Membership.objects.create(user=jane, tenant=tenant, role="member")
        with tenant_context(tenant):
            document = services.document_upload(
                tenant=tenant, actor=owner, fileobj=text_file("the brief\n", "brief.txt"), name="brief.txt"
            )
        return tenant, owner, jane, document

    tenant, owner, jane, document = _in_thread(django_db_blocker, provision)
    try:
        yield tenant, owner, jane, document
    finally:
        _in_thread(django_db_blocker, lambda: tenant_delete(tenant=tenant))


@pytest.mark.django_db  # makes pytest-django set up the test database when this file runs alone
def test_the_studio_tenant_exists(studio):
    assert studio[0].domains.exists()


def test_a_visitor_downloads_a_password_protected_link(chromium, live_hub, studio, tmp_path):  # noqa: F811
    tenant, owner, _, document = studio
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, f"/content/documents/{document.pk}/"))
        links = page.locator("#links")
        links.get_by_label("Password").fill("open sesame")
        links.get_by_label("Downloads allowed").fill("2")
        links.get_by_role("button", name="Make link").click()
        expect(page.get_by_text("Link made: copy it now")).to_be_visible()
        address = page.locator("#new-link").inner_text()
        expect(links.get_by_text("0 of 2")).to_be_visible()
        page_checked(page, "content-document-links")
    finally:
        context.close()
    for theme, viewport in (("light", "desktop"), ("dark", "phone")):
        visitor = new_context(chromium, theme=theme, viewport=viewport, accept_downloads=True, bypass_csp=True)
        page = visitor.new_page()
        try:
            page.goto(address)
            expect(page.get_by_role("heading", level=1)).to_have_text("“brief.txt” is protected")
            page_checked(page, "content-shared-link-password")
            page.get_by_label("Password").fill("wrong password")
            page.get_by_role("button", name="Open").click()
            expect(page.get_by_text("That is not the password.")).to_be_visible()
            page.get_by_label("Password").fill("open sesame")
            page.get_by_role("button", name="Open").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("brief.txt")
            page_checked(page, "content-shared-link")
            with page.expect_download() as download:
                page.get_by_role("link", name="Download").click()
            saved = tmp_path / f"{theme}.txt"
            download.value.save_as(saved)
            assert saved.read_bytes() == b"the brief\n"
        finally:
            visitor.close()
    visitor = new_context(chromium, bypass_csp=True)
    page = visitor.new_page()
    try:
        page.goto(address)  # two downloads were allowed: no password form any more
        expect(page.get_by_role("heading", level=1)).to_contain_text("does not work any more")
        expect(page.get_by_text("used up")).to_be_visible()
        page_checked(page, "content-shared-link-used-up")
    finally:
        visitor.close()


def test_a_comment_mentions_a_member_through_the_autocomplete(chromium, live_hub, studio, django_db_blocker):  # noqa: F811
    tenant, owner, jane, document = studio
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, f"/content/documents/{document.pk}/"))
        box = page.locator("#comments").get_by_label("Comment")
        box.click()
        box.press_sequentially("Please check this, @Jan")
        option = page.get_by_role("option", name=f"Jane Doe ({jane.email})")
        expect(option).to_be_visible()
        box.press("Enter")
        expect(box).to_have_value(f"Please check this, @{jane.email} ")
        page.locator("#comments").get_by_role("button", name="Comment").click()
        expect(page.locator("#comments .mention")).to_have_text("@Jane Doe")
        expect(page.locator("#comments")).to_contain_text("1 open")
        page_checked(page, "content-comments")
        page.locator("#comments").get_by_role("button", name="Resolve").click()
        expect(page.locator("#comments").get_by_text("Resolved", exact=True)).to_be_visible()
    finally:
        context.close()

    def notified():
        from django_tenants.utils import tenant_context

        from apps.events.services import events_dispatch_new
        from apps.notifications.models import Notification

        with tenant_context(tenant):
            events_dispatch_new()
            return list(
                Notification.objects.filter(user=jane, event_type="content.member_mentioned").values_list(
                    "title", flat=True
                )
            )

    titles = _in_thread(django_db_blocker, notified)
    assert titles and "mentioned you in a comment on “brief.txt”" in titles[0]
    jane_context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)
    page = jane_context.new_page()
    try:
        log_in(page, live_hub, tenant, jane)
        page.goto(url(live_hub, tenant, "/notifications/"))
        expect(page.get_by_text("mentioned you in a comment on “brief.txt”").first).to_be_visible()
    finally:
        jane_context.close()


def test_the_diff_and_the_document_page_fit_a_phone_in_the_dark(chromium, live_hub, studio, django_db_blocker):  # noqa: F811
    tenant, owner, _, document = studio

    def second_version():
        from django_tenants.utils import tenant_context

        from tests.content.conftest import text_file

        with tenant_context(tenant):
            services.document_version_add(
                tenant=tenant, actor=owner, document=document, fileobj=text_file("the brief\n<b>and more</b>\n")
            )

    _in_thread(django_db_blocker, second_version)
    context = new_context(chromium, theme="dark", viewport="phone", bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, f"/content/documents/{document.pk}/"))
        # The kit's breadcrumbs: links separated by chevrons, not a numbered list ("1. Files").
        expect(page.locator("nav.breadcrumbs ol")).to_have_css("list-style-type", "none")
        expect(page.locator("nav.breadcrumbs li").first).to_have_text("Files")
        page_checked(page, "content-document")
        page.get_by_role("link", name="Compare versions").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Compare versions")
        expect(page.locator(".diff-right code").last).to_have_text("<b>and more</b>")  # shown as text, escaped
        page_checked(page, "content-diff")
        page.get_by_label("Show").select_option("unified")
        page.get_by_role("button", name="Compare").click()
        expect(page.locator(".diff-unified .diff-added")).to_contain_text("<b>and more</b>")
        page_checked(page, "content-diff-unified")
    finally:
        context.close()


def test_the_trash_shows_folders_and_documents_restores_and_deletes_for_good(
    chromium,  # noqa: F811
    live_hub,  # noqa: F811
    studio,
    django_db_blocker,
):
    tenant, owner, _, _ = studio

    def trashed():
        from django_tenants.utils import tenant_context

        from tests.content.conftest import text_file

        with tenant_context(tenant):
            for name in ("Old drafts", "Archive 2024"):
                folder = services.folder_create(tenant=tenant, actor=owner, name=name)
                notes = text_file("notes\n", "notes.txt")
                services.document_upload(tenant=tenant, actor=owner, fileobj=notes, name="notes.txt", folder=folder)
                services.folder_trash(tenant=tenant, actor=owner, folder=folder)
            memo = text_file("memo\n", "memo.txt")
            memo = services.document_upload(tenant=tenant, actor=owner, fileobj=memo, name="memo.txt")
            services.document_trash(tenant=tenant, actor=owner, document=memo)

    def left():
        from django_tenants.utils import tenant_context

        from apps.content.models import Folder

        with tenant_context(tenant):
            names = ["Old drafts", "Archive 2024"]
            return {f.name: f.trashed_at is None for f in Folder.objects.filter(name__in=names)}

    _in_thread(django_db_blocker, trashed)
    for theme, viewport in (("light", "desktop"), ("dark", "phone")):
        context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
        page = context.new_page()
        try:
            log_in(page, live_hub, tenant, owner)
            page.goto(url(live_hub, tenant, "/content/trash/"))
            folders = page.locator("section.card").filter(has=page.get_by_role("heading", name="Folders"))
            documents = page.locator("section.card").filter(has=page.get_by_role("heading", name="Documents"))
            expect(documents.locator("tr", has_text="memo.txt")).to_contain_text("Files")  # where it was
            if theme == "light":
                expect(folders).to_contain_text("Old drafts")
                expect(folders).to_contain_text("Archive 2024")
                page_checked(page, "content-trash")
                row = folders.locator("tr", has_text="Old drafts")
                row.get_by_role("button", name="Restore").click()
                expect(folders).not_to_contain_text("Old drafts")
                row = folders.locator("tr", has_text="Archive 2024")
                row.get_by_role("button", name="Delete for good").click()
                dialog = page.get_by_role("dialog")
                expect(dialog).to_contain_text("Delete the folder “Archive 2024”, every folder and document in it")
                dialog.get_by_role("button", name="Delete for good").click()
                expect(folders).not_to_contain_text("Archive 2024")
            else:
                page_checked(page, "content-trash-phone-dark")
        finally:
            context.close()
    assert _in_thread(django_db_blocker, left) == {"Old drafts": True}  # one back, one gone for good
