"""Feature flag pages in a real Chromium: a member creates a flag with the rule builder (adding a
row by htmx), switches it off from the list through the kit's confirmation dialog and rolls it
back from its history; the pages pass axe (light on a desktop, dark on a phone), with nothing
wider than the phone (screenshots in test-results/screenshots/flags-*). An experiment on the
shop's flag, its exposures and goals captured and written: its results page with the chart, the
shipping through the kit's confirmation, and its pages checked the same way."""

import secrets

import pytest
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from apps.flags import services
from apps.identity.services import organisation_provision
from apps.tenancy.services import tenant_delete
from tests.browser.conftest import chromium, live_hub, new_context, page_checked  # noqa: F401
from tests.browser.test_kit import log_in, url
from tests.conftest import PASSWORD, committed

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def shop(django_db_setup, django_db_blocker):
    slug = f"flags-{secrets.token_hex(3)}"
    with django_db_blocker.unblock():
        tenant, owner = organisation_provision(
            name="Flags Ltd", slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
        )
        with schema_context(tenant.schema_name):
            for key in ("plan", "email"):  # what the shop's code sends
                services.property_declare(tenant=tenant, actor=None, kind="person", key=key)
            flag = services.flag_create(
                tenant=tenant,
                actor=None,
                key="pricing-page",
                name="New pricing page",
                filters={
                    "groups": [
                        {
                            "properties": [{"key": "plan", "operator": "exact", "value": "pro", "type": "person"}],
                            "rollout_percentage": 40,
                        }
                    ],
                    "multivariate": {
                        "variants": [
                            {"key": "control", "rollout_percentage": 50},
                            {"key": "test", "rollout_percentage": 50},
                        ]
                    },
                },
            )
        try:
            yield tenant, owner, flag
        finally:
            tenant_delete(tenant=tenant)


@pytest.mark.django_db
def test_the_shop_is_served_on_its_domain(shop):
    tenant, _, _ = shop
    assert tenant.domains.get().domain == f"{tenant.slug}.localhost"


def _confirm(page, row, button: str, question: str, confirm: str) -> None:
    row.get_by_role("button", name=button).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(question)
    dialog.get_by_role("button", name=confirm).click()


def test_a_member_creates_switches_off_and_rolls_back_a_flag(shop, live_hub, chromium):  # noqa: F811
    tenant, owner, _ = shop
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("navigation").get_by_role("link", name="Feature flags").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Feature flags")
        page.get_by_role("link", name="New flag").first.click()
        page.locator("#id_key").fill("beta-banner")
        rows = page.locator("[data-condition-row]")
        expect(rows).to_have_count(2)
        page.get_by_role("button", name="Add a condition row").click()
        expect(rows).to_have_count(3)  # from the server by htmx
        expect(page.locator("#id_key")).to_have_value("beta-banner")  # kept across the swap
        first = rows.nth(0)
        first.get_by_label("Property, cohort id or flag").fill("email")
        first.get_by_label("Is").select_option("icontains")
        first.get_by_label("Value").fill("@acme.test")
        page.get_by_role("button", name="Create flag").click()
        expect(page.locator(".message-success")).to_contain_text("Flag “beta-banner” created.")
        page_checked(page, "flags-detail")

        page.get_by_role("link", name="← Feature flags").click()
        row = page.locator("tr", has_text="beta-banner")
        expect(row).to_contain_text("On")
        page_checked(page, "flags-list")
        _confirm(page, row, "Switch off", "Switch “beta-banner” off?", "Switch off")
        expect(page.locator("tr", has_text="beta-banner")).to_contain_text("Off")

        page.locator("tr", has_text="beta-banner").get_by_role("link", name="Open").click()
        page.get_by_role("link", name="History").click()
        expect(page.locator("tbody tr")).to_have_count(2)
        page_checked(page, "flags-history")
        _confirm(page, page.locator("tr", has_text="created"), "Roll back to this", "Make version 1", "Roll back")
        expect(page.locator(".message-success")).to_contain_text("back to version 1")
        expect(page.locator("tbody tr")).to_have_count(3)
    finally:
        context.close()


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_flag_pages_pass_axe_and_fit_a_phone(shop, live_hub, chromium, theme, viewport):  # noqa: F811
    tenant, owner, flag = shop
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {
            "flags-index": "/flags/",
            "flags-edit": f"/flags/{flag.pk}/",
            "flags-new": "/flags/new/",
        }.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
    finally:
        context.close()


def _experiment_with_events(tenant, flag):
    """A running experiment on the shop's flag, with exposures and purchases written (committed:
    the live server is another thread)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.analytics import services as analytics
    from apps.analytics.capture import Payload
    from apps.flags import experiments
    from apps.flags.models import Experiment

    with schema_context(tenant.schema_name):
        experiment = Experiment.objects.filter(flag=flag).exclude(status="stopped").first()
        if experiment is not None:
            return experiment
        experiment = experiments.experiment_create(
            tenant=tenant,
            actor=None,
            flag=flag,
            name="Pricing page test",
            primary_metric={"kind": "funnel", "event": "purchase"},
            secondary_metrics=[{"kind": "mean", "event": "purchase", "property": "amount"}],
        )
        experiments.experiment_start(tenant=tenant, actor=None, experiment=experiment)
        Experiment.objects.filter(pk=experiment.pk).update(started_at=timezone.now() - timedelta(hours=1))
        at = (timezone.now() - timedelta(minutes=30)).isoformat()
        events = []
        for i in range(120):
            variant = "control" if i % 2 else "test"
            properties = {"$feature_flag": flag.key, "$feature_flag_response": variant}
            events.append(
                {"event": "$feature_flag_called", "distinct_id": f"p{i}", "properties": properties, "timestamp": at}
            )
            if i % (5 if variant == "control" else 3) == 0:
                events.append({"event": "purchase", "distinct_id": f"p{i}", "properties": {"amount": 20 + i % 7}})
        analytics.events_capture(schema=tenant.schema_name, payload=Payload(events=events, api_key=None))
        analytics.events_write_queued()
        experiment.refresh_from_db()
        return experiment


@pytest.mark.parametrize("theme, viewport", [("light", "desktop"), ("dark", "phone")])
def test_the_experiment_pages_pass_axe_and_fit_a_phone(shop, live_hub, chromium, django_db_blocker, theme, viewport):  # noqa: F811
    tenant, owner, flag = shop
    with django_db_blocker.unblock():  # on a thread of its own: Playwright's loop runs on this one
        experiment = committed(lambda: _experiment_with_events(tenant, flag))
    context = new_context(chromium, theme=theme, viewport=viewport, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        for name, path in {
            "experiments-index": "/experiments/",
            "experiments-new": "/experiments/new/",
            "experiments-results": f"/experiments/{experiment.pk}/",
        }.items():
            page.goto(url(live_hub, tenant, path))
            page_checked(page, name)
        expect(page.locator("canvas[data-chart='experiment-chart']")).to_be_visible()
        expect(page.locator("table[data-results='funnel'] tr[data-variant='test'] [data-exposed]")).to_have_text("60")
    finally:
        context.close()


def test_a_member_ships_the_winning_variant_through_the_confirmation(shop, live_hub, chromium, django_db_blocker):  # noqa: F811
    tenant, owner, flag = shop
    with django_db_blocker.unblock():  # on a thread of its own: Playwright's loop runs on this one
        experiment = committed(lambda: _experiment_with_events(tenant, flag))
    context = new_context(chromium, bypass_csp=True)
    page = context.new_page()
    try:
        log_in(page, live_hub, tenant, owner)
        page.get_by_role("navigation").get_by_role("link", name="Experiments").click()
        page.get_by_role("link", name="Pricing page test").click()
        expect(page.locator("table[data-results='funnel'] tr[data-variant='control'] [data-converted]")).to_have_text(
            "12"
        )
        page.get_by_label("Variant", exact=True).select_option("test")
        page.get_by_role("button", name="Ship", exact=True).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Serve the chosen variant to everyone")
        dialog.get_by_role("button", name="Ship").click()
        expect(page.locator(".message-success")).to_contain_text("Shipped “test”")
        expect(page.locator(".lead .badge")).to_contain_text("Shipped test")
        # the split is checked against the weights the experiment started with, not the shipped 0/100
        expect(page.locator("table[data-results='funnel'] tr[data-variant='test'] [data-exposed]")).to_have_text("60")
        expect(page.locator("#srm-warning")).to_have_count(0)
    finally:
        context.close()

    def shipped():
        with schema_context(tenant.schema_name):
            flag.refresh_from_db()
            weights = {v["key"]: v["rollout_percentage"] for v in flag.filters["multivariate"]["variants"]}
            return weights, experiment.__class__.objects.get(pk=experiment.pk).shipped_variant

    with django_db_blocker.unblock():
        assert committed(shipped) == ({"control": 0, "test": 100}, "test")
