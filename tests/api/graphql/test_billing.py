"""Billing over GraphQL answers what GET /api/v1/billing/plan/ and /usage/ answer (the same
selectors), and planChange refuses as the Plan and usage page does: the service's words, as
BAD_USER_INPUT naming `plan` (scopes, roles and isolation of every field: test_fields.py too)."""

from decimal import Decimal

import pytest
from django_tenants.utils import schema_context

from apps.billing import quotas
from apps.billing.models import Plan, UsageRecord
from apps.events.models import Event
from apps.identity.models import Membership
from apps.tenancy.models import Tenant
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import Gql, errors_of

pytestmark = pytest.mark.django_db

PLAN = "{ billingPlan { key name features started seats price { currency monthly perSeat } " \
    "usage { quantity label used limit monthly percent near reached } } }"  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_quotas():
    quotas.forget()
    yield
    quotas.forget()


def _field_errors(body) -> list[tuple[str, str]]:
    return [(e["field"], e["message"]) for error in body["errors"] for e in error["extensions"].get("errors", [])]


def test_the_plan_is_the_rest_plan(tenant_a, gql_a):
    _, raw = make_key(tenant_a, scope_list=["billing:read"])
    rest = api_client(tenant_a, raw).get("/api/v1/billing/plan/").json()
    body = gql_a(PLAN)
    plan = body["data"]["billingPlan"]
    assert plan["key"] == rest["key"] == "free" and plan["name"] == "Free"
    assert plan["seats"] == rest["seats"]
    assert Decimal(plan["price"]["monthly"]) == Decimal(str(rest["price"]["monthly"]))
    assert [
        {k: u[k] for k in ("quantity", "label", "used", "limit", "monthly", "percent")} for u in plan["usage"]
    ] == rest["usage"]


def test_plans_list_the_offered_plans_with_limits_past_2_to_the_31(gql_a):
    Plan.objects.filter(key="enterprise").update(offered=False)
    body = gql_a(
        "{ plans { key order features price { monthly perSeat currency } limits { quantity limit monthly } } }"
    )
    plans = body["data"]["plans"]
    assert [p["key"] for p in plans] == ["free", "team", "business"]
    team = {limit["quantity"]: limit for limit in plans[1]["limits"]}
    assert team["storage_bytes"] == {"quantity": "storage_bytes", "limit": 100 * 2**30, "monthly": False}
    assert team["api_calls"]["monthly"] and plans[1]["price"] == {
        "monthly": "49.00",
        "perSeat": "8.00",
        "currency": "EUR",
    }


def test_usage_per_day_filters_and_never_shows_another_tenants(tenant_a, tenant_b, gql_a, gql_b):
    today = quotas.today()
    UsageRecord.objects.create(tenant=tenant_a, day=today, quantity="api_calls", amount=5_000_000_000)
    UsageRecord.objects.create(tenant=tenant_a, day=today, quantity="workflow_runs", amount=7)
    UsageRecord.objects.create(tenant=tenant_b, day=today, quantity="api_calls", amount=31)
    query = "query ($q: String, $s: Date) { billingUsage(first: 10, quantity: $q, since: $s) { edges { node { quantity amount day } } } }"  # noqa: E501
    mine = gql_a(query, {"q": "api_calls", "s": today.isoformat()})["data"]["billingUsage"]["edges"]
    assert [e["node"] for e in mine] == [{"quantity": "api_calls", "amount": 5_000_000_000, "day": today.isoformat()}]
    theirs = gql_b(query)["data"]["billingUsage"]["edges"]
    assert [e["node"]["amount"] for e in theirs] == [31]
    assert "5000000000" not in str(gql_b(PLAN))
    refused = gql_a(query, {"q": "coffee"})
    assert errors_of(refused) == ["BAD_USER_INPUT"] and _field_errors(refused)[0][0] == "quantity"


def test_plan_change_upgrades_and_refuses_a_downgrade_below_usage_in_the_services_words(tenant_a, gql_a):
    change = "mutation ($p: String!) { planChange(plan: $p) { key name price { monthly } } }"
    body = gql_a(change, {"p": "team"})
    assert body["data"]["planChange"] == {"key": "team", "name": "Team", "price": {"monthly": "49.00"}}, body
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "team"
    members = Membership.objects.filter(tenant=tenant_a).count()
    Plan.objects.filter(key="free").update(seats=members - 1)
    quotas.forget()
    refused = gql_a(change, {"p": "free"})
    assert errors_of(refused) == ["BAD_USER_INPUT"] and refused["data"] is None
    assert _field_errors(refused) == [
        ("plan", f"You have {quotas.members(members)}; the Free plan allows {members - 1}.")
    ]
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "team"
    unknown = gql_a(change, {"p": "platinum"})
    assert _field_errors(unknown) == [("plan", "There is no plan 'platinum' to choose; `plans` lists them.")]
    Plan.objects.filter(key="business").update(offered=False)
    assert errors_of(gql_a(change, {"p": "business"})) == ["BAD_USER_INPUT"]
    with schema_context(tenant_a.schema_name):
        assert Event.objects.filter(type="billing.plan_changed").count() == 1


def test_an_admins_session_may_a_member_may_not_and_a_read_key_may_not_write(tenant_a):
    admin = MembershipFactory(tenant=tenant_a, role="admin")
    body = Gql(client_for(tenant_a, admin.user))(PLAN)
    assert body["data"]["billingPlan"]["key"] == "free"
    member = MembershipFactory(tenant=tenant_a, role="member")
    refused = Gql(client_for(tenant_a, member.user))('mutation { planChange(plan: "team") { key } }')
    assert errors_of(refused) == ["FORBIDDEN"] and "does not allow" in refused["errors"][0]["message"]
    _, raw = make_key(tenant_a, scope_list=["billing:read"])
    read_only = Gql(api_client(tenant_a, raw))('mutation { planChange(plan: "team") { key } }')
    assert errors_of(read_only) == ["FORBIDDEN"] and "billing:write" in read_only["errors"][0]["message"]
    assert Tenant.objects.get(pk=tenant_a.pk).plan == "free"
