"""Files search and a processed document in a real Chromium: a member opens Search from the files
page, searches words from inside a scan and a text file, reads the snippets with their marks,
narrows by type, and opens a document showing its thumbnail and processing status. The pages pass
axe and are photographed in light and dark, on a desktop and a phone."""

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from apps.content import services
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD
from tests.content import files

pytestmark = pytest.mark.browser


def _made(tenant, owner):
    from django.db import connection

    try:
        uploads = {
            "harbour scan.png": files.scan(["Zanzibar pelican shipment", "harbour fees paid"]),
            "pelican notes.txt": b"Notes about the pelican colony near the harbour: 42 nests & 3 chicks < 5 expected.",
            "budget.xlsx": files.xlsx([["Pelican food", 120], ["Harbour fees", 80]]),
        }
        made = []
        for name, content in uploads.items():
            document = services.document_upload(
                tenant=tenant, actor=owner, fileobj=SimpleUploadedFile(name, content), name=name
            )
            services.version_process(tenant=tenant, version_id=document.current_id)
            made.append(document.pk)
        return made
    finally:
        connection.close()


@pytest.fixture(scope="module")
def harbour(django_db_setup, django_db_blocker):
    """A tenant of its own with three processed documents, made and deleted in a thread."""
    slug = f"harbour-{secrets.token_hex(3)}"

    def provision():
        tenant, owner = organisation_provision(
            name="Harbour Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        return tenant, owner, _made(tenant, owner)

    with django_db_blocker.unblock(), ThreadPoolExecutor(1) as pool:
        tenant, owner, documents = pool.submit(provision).result()
        try:
            yield tenant, owner, documents
        finally:
            pool.submit(tenant_delete, tenant=tenant).result()


@pytest.mark.django_db
def test_the_harbour_tenant_exists(harbour):
    assert harbour[0].domains.exists()


@pytest.mark.parametrize(("theme", "viewport"), [("light", "desktop"), ("dark", "desktop"), ("light", "phone")])
def test_a_member_searches_words_inside_files_and_opens_one(chromium, live_hub, harbour, theme, viewport):  # noqa: F811
    tenant, owner, documents = harbour
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.goto(url(live_hub, tenant, "/content/"))
        page.get_by_role("link", name="Search", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Search files")
        form = page.get_by_role("search", name="Search documents")
        form.get_by_label("Words").fill("pelican")
        form.get_by_role("button", name="Search").click()
        table = page.locator("table.data-table")
        expect(table.get_by_role("link", name="pelican notes.txt")).to_be_visible()
        expect(table.get_by_role("link", name="harbour scan.png")).to_be_visible()  # read by OCR
        expect(table.locator("mark").first).to_have_text("pelican", ignore_case=True)
        expect(table).to_contain_text("nests & 3 chicks < 5")  # the text's own & and <, shown as text
        page_checked(page, "content-search")
        form.get_by_label("Type").select_option("spreadsheet")
        form.get_by_role("button", name="Search").click()
        expect(table.get_by_role("link")).to_have_count(1)
        expect(table.get_by_role("link", name="budget.xlsx")).to_be_visible()
        form.get_by_label("Type").select_option("")
        form.get_by_label("Words").fill("pelicn")  # a typo
        form.get_by_role("button", name="Search").click()
        expect(page.get_by_text("showing documents with “pelican”")).to_be_visible()
        table.get_by_role("link", name="harbour scan.png").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("harbour scan.png")
        expect(page.get_by_text("Processed", exact=True)).to_be_visible()
        picture = page.get_by_role("img", name="Picture of harbour scan.png")
        expect(picture).to_be_visible()
        assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") == 320  # once loaded
        page_checked(page, "content-document-processed")
    finally:
        context.close()
