"""Billing: plans seeded as Tenant.plan's choices, limits enforced where each quantity grows
(402 problem+json naming it; the form's message), usage collected idempotently, downgrades below
usage refused, grandfathered prices, tenant isolation and who may change the plan."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django_tenants.utils import schema_context

from apps.billing import quotas, selectors, services
from apps.billing.models import Plan, PlanPrice, Quantity, Subscription, UsageRecord
from apps.core.limits import PROBLEM_TYPE, LimitReached, limit_check
from apps.events.models import Event
from apps.identity.models import Membership
from apps.tenancy.models import Tenant
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory


@pytest.fixture(autouse=True)
def _fresh_quotas():
    quotas.forget()
    yield
    quotas.forget()


def _limit(key: str, **limits) -> Plan:
    Plan.objects.filter(key=key).update(**limits)
    quotas.forget()
    return Plan.objects.get(key=key)


def _problem(response, quantity: str) -> dict:
    assert response.status_code == 402, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == PROBLEM_TYPE and body["code"] == "plan_limit"
    assert body["quantity"] == quantity and body["plan"] == "Free"
    assert body["errors"][0]["field"] == quantity
    assert "Upgrade the plan" in body["detail"]
    return body


def test_the_seeded_plans_are_tenant_plans_choices_each_with_a_price(db):
    assert list(Plan.objects.values_list("key", flat=True)) == ["free", "team", "business", "enterprise"]
    assert set(Plan.objects.values_list("key", flat=True)) == set(Tenant.Plan.values)
    assert all(plan.price is not None for plan in Plan.objects.all())
    assert Plan.objects.get(key="enterprise").seats is None  # unlimited


# --- limits ------------------------------------------------------------------------------------


def test_inviting_past_the_seats_refused_by_api_and_on_the_form(tenant_a, owner_a):
    members = Membership.objects.filter(tenant=tenant_a).count()
    _limit("free", seats=members)
    _, raw = make_key(tenant_a)
    response = api_client(tenant_a, raw).post(
        "/api/v1/invitations/", {"email": "new@example.com", "role": "member"}, content_type="application/json"
    )
    body = _problem(response, "seats")
    assert body["limit"] == members and body["used"] == members
    assert f"the Free plan allows {members}" in body["detail"]
    page = client_for(tenant_a, owner_a).post("/members/invite/", {"email": "new@example.com", "role": "member"})
    assert page.status_code == 400
    assert f"the Free plan allows {members}" in page.content.decode()
    _limit("free", seats=members + 1)
    page = client_for(tenant_a, owner_a).post("/members/invite/", {"email": "new@example.com", "role": "member"})
    assert page.status_code == 302  # one seat left: invited


def test_api_calls_past_the_month_refused_with_402(tenant_a):
    _, raw = make_key(tenant_a)
    client = api_client(tenant_a, raw)
    assert client.get("/api/v1/billing/plan/").status_code == 200
    _limit("free", api_calls=0)
    body = _problem(client.get("/api/v1/billing/plan/"), "api_calls")
    assert body["limit"] == 0 and "API calls this month" in body["detail"]


def test_the_hot_paths_draw_on_an_allowance_without_a_query_per_call(tenant_a, django_assert_max_num_queries):
    _limit("free", analytics_events=5)
    with schema_context(tenant_a.schema_name):
        limit_check(tenant=tenant_a, quantity="analytics_events", adding=1)  # works the allowance out
        with django_assert_max_num_queries(0):
            limit_check(tenant=tenant_a, quantity="analytics_events", adding=4)
            with pytest.raises(LimitReached) as refused:
                limit_check(tenant=tenant_a, quantity="analytics_events", adding=1)
    assert refused.value.quantity == "analytics_events" and refused.value.limit == 5


def test_the_events_allowance_starts_from_the_collected_days_not_the_event_table(
    tenant_a, django_assert_max_num_queries
):
    """Counting a busy tenant's events would hold up capture: the allowance reads the month's
    usage records (today's from the hourly collection) and nothing of analytics."""
    _limit("free", analytics_events=5)
    UsageRecord.objects.create(tenant=tenant_a, day=quotas.today(), quantity="analytics_events", amount=3)
    UsageRecord.objects.create(
        tenant=tenant_a, day=quotas.today().replace(day=1) - timedelta(days=1), quantity="analytics_events", amount=99
    )  # last month's: not counted
    quotas.forget()
    quotas.plan_limits("free")
    with schema_context(tenant_a.schema_name), django_assert_max_num_queries(2) as queries:  # the schema's, and one
        limit_check(tenant=tenant_a, quantity="analytics_events", adding=2)
    statements = [q["sql"] for q in queries.captured_queries]
    assert any("billing_usagerecord" in sql for sql in statements)
    assert not any('analytics_event"' in sql for sql in statements), statements
    with schema_context(tenant_a.schema_name), pytest.raises(LimitReached):
        limit_check(tenant=tenant_a, quantity="analytics_events", adding=1)


def test_analytics_capture_past_the_month_refused_with_402(tenant_a, owner_a):
    from apps.analytics.services import project_key_create

    _limit("free", analytics_events=0)
    with schema_context(tenant_a.schema_name):
        _, raw = project_key_create(
            tenant=tenant_a, actor=Membership.objects.get(tenant=tenant_a, user=owner_a), name="site"
        )
    response = api_client(tenant_a).post(
        "/api/v1/analytics/capture/",
        {"api_key": raw, "event": "signed up", "distinct_id": "u1"},
        content_type="application/json",
    )
    _problem(response, "analytics_events")


def test_workflow_runs_and_storage_are_limited(tenant_a):
    _limit("free", workflow_runs=0, storage_bytes=10)
    with schema_context(tenant_a.schema_name):
        with pytest.raises(LimitReached, match="workflow runs started this month; the Free plan allows 0"):
            limit_check(tenant=tenant_a, quantity="workflow_runs")
        with pytest.raises(LimitReached, match=r"the Free plan allows 10\sbytes, and this adds 11\sbytes"):
            limit_check(tenant=tenant_a, quantity="storage_bytes", adding=11)
    _limit("free", workflow_runs=None)  # unlimited
    with schema_context(tenant_a.schema_name):
        limit_check(tenant=tenant_a, quantity="workflow_runs", adding=10**9)


def test_a_content_upload_past_the_storage_is_refused_with_the_message(tenant_a, owner_a):
    _limit("free", storage_bytes=3)
    page = client_for(tenant_a, owner_a).post(
        "/content/upload/", {"file": _file(b"four or more bytes")}, HTTP_ACCEPT="application/json"
    )
    assert page.status_code in (400, 402, 422), page.content
    assert "the Free plan allows 3\xa0bytes" in page.content.decode()


def _file(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("note.txt", content, content_type="text/plain")


# --- metering ------------------------------------------------------------------------------------


def test_collecting_twice_gives_the_same_numbers(tenant_a):
    today = quotas.today()
    first = services.usage_collect(tenant=tenant_a, day=today)
    rows = list(UsageRecord.objects.filter(tenant=tenant_a).order_by("quantity").values_list("quantity", "amount"))
    again = services.usage_collect(tenant=tenant_a, day=today)
    assert first == again and first[Quantity.SEATS] == Membership.objects.filter(tenant=tenant_a).count()
    assert rows == list(
        UsageRecord.objects.filter(tenant=tenant_a).order_by("quantity").values_list("quantity", "amount")
    )
    assert UsageRecord.objects.filter(tenant=tenant_a, day=today).count() == len(Quantity.values)


def test_the_backfill_command_collects_a_range_once_per_day(tenant_a, capsys):
    today = quotas.today()
    since = today - timedelta(days=2)
    for _ in range(2):
        call_command("billing_meter", "--since", since.isoformat(), "--tenant", tenant_a.slug)
    assert UsageRecord.objects.filter(tenant=tenant_a, day__gte=since).count() == 3 * len(Quantity.values)
    assert "3 days" in capsys.readouterr().out


def test_the_backfill_command_refuses_a_bad_range(tenant_a):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="is not a day"):
        call_command("billing_meter", "--since", "yesterday")
    with pytest.raises(CommandError, match="comes after"):
        call_command("billing_meter", "--since", "2030-01-02", "--until", "2030-01-01")


def test_reaching_a_limit_is_announced_once(tenant_a):
    _limit("free", seats=1)
    services.usage_collect(tenant=tenant_a, day=quotas.today())
    services.usage_collect(tenant=tenant_a, day=quotas.today())
    with schema_context(tenant_a.schema_name):
        events = list(Event.objects.filter(type="billing.limit_reached"))
    assert len(events) == 1 and events[0].payload["quantity"] == "seats"


# --- plan changes --------------------------------------------------------------------------------


def _owner(tenant):
    return Membership.objects.select_related("user", "tenant").get(tenant=tenant, role="owner")


def test_a_downgrade_below_usage_is_refused_naming_the_quantity(tenant_a):
    services.plan_change(tenant=tenant_a, actor=_owner(tenant_a), plan=Plan.objects.get(key="team"))
    members = Membership.objects.filter(tenant=tenant_a).count()
    free = _limit("free", seats=members - 1)
    with pytest.raises(ValidationError) as refused:
        services.plan_change(tenant=tenant_a, actor=_owner(tenant_a), plan=free)
    assert refused.value.message_dict["plan"] == [
        f"You have {quotas.members(members)}; the Free plan allows {members - 1}."
    ]
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "team"


def test_an_upgrade_moves_tenant_plan_and_records_the_price_and_event(tenant_a):
    team = Plan.objects.get(key="team")
    subscription = services.plan_change(tenant=tenant_a, actor=_owner(tenant_a), plan=team)
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "team" and subscription.price == team.price
    with schema_context(tenant_a.schema_name):
        event = Event.objects.get(type="billing.plan_changed")
    assert event.payload["from_plan"] == "free" and event.payload["to_plan"] == "team"


def test_a_price_change_keeps_the_subscribers_price(tenant_a, owner_a):
    team = Plan.objects.get(key="team")
    taken = services.plan_change(tenant=tenant_a, actor=_owner(tenant_a), plan=team).price
    new = services.plan_price_set(plan=team, monthly=Decimal("59.00"), per_seat=Decimal("9.00"), currency="eur")
    assert new != taken and team.price == new
    assert Subscription.objects.get(tenant=tenant_a).price == taken
    page = client_for(tenant_a, owner_a).get("/billing/").content.decode()
    assert "You keep this price" in page and "EUR 59.00" in page
    assert services.plan_price_set(plan=team, monthly=Decimal("59"), per_seat=Decimal("9"), currency="EUR") == new
    assert PlanPrice.objects.filter(plan=team).count() == 2


def test_a_member_or_viewer_cannot_change_the_plan(tenant_a):
    for role in ("member", "viewer"):
        membership = MembershipFactory(tenant=tenant_a, role=role)
        client = client_for(tenant_a, membership.user)
        assert client.get("/billing/").status_code == 403
        assert client.post("/billing/plan/", {"plan": "team"}).status_code == 403
        with pytest.raises(PermissionDenied):
            services.plan_change(tenant=tenant_a, actor=membership, plan=Plan.objects.get(key="team"))
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "free"


def test_the_page_changes_the_plan_and_shows_a_refusal_on_the_form(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    page = client.get("/billing/")
    assert page.status_code == 200 and "Members" in page.content.decode()
    assert client.post("/billing/plan/", {"plan": "team"}).status_code == 302
    _limit("free", seats=0)
    refused = client.post("/billing/plan/", {"plan": "free"})
    assert refused.status_code == 400 and "the Free plan allows 0." in refused.content.decode()
    assert client.post("/billing/plan/", {"plan": "nope"}).status_code == 400


def test_the_banner_shows_near_a_limit_for_admins_only(tenant_a, owner_a):
    members = Membership.objects.filter(tenant=tenant_a).count()
    _limit("free", seats=members)
    assert "data-plan-limits" in client_for(tenant_a, owner_a).get("/billing/").content.decode()
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    assert "data-plan-limits" not in client_for(tenant_a, viewer.user).get("/members/").content.decode()


# --- isolation and the API -----------------------------------------------------------------------


def test_another_tenant_never_sees_the_usage(tenant_a, tenant_b, owner_b):
    UsageRecord.objects.create(tenant=tenant_a, day=quotas.today(), quantity="api_calls", amount=424242)
    _, raw_b = make_key(tenant_b)
    listed = api_client(tenant_b, raw_b).get("/api/v1/billing/usage/")
    assert listed.status_code == 200 and listed.json()["results"] == []
    assert "424242" not in client_for(tenant_b, owner_b).get("/billing/").content.decode()
    _, raw_a = make_key(tenant_a)
    mine = api_client(tenant_a, raw_a).get("/api/v1/billing/usage/?ordering=-amount&quantity=api_calls")
    assert [r["amount"] for r in mine.json()["results"]] == [424242]


def test_the_plan_endpoint_and_its_scope(tenant_a):
    _, raw = make_key(tenant_a, scope_list=["billing:read"])
    body = api_client(tenant_a, raw).get("/api/v1/billing/plan/").json()
    assert body["key"] == "free" and body["name"] == "Free"
    assert {u["quantity"] for u in body["usage"]} == set(Quantity.values)
    _, other = make_key(tenant_a, scope_list=["identity:read"])
    assert api_client(tenant_a, other).get("/api/v1/billing/plan/").status_code == 403
    assert selectors.usage_summary(tenant=tenant_a)[0].quantity == "seats"
