"""The platform admin: its name, model names that read right, and the operator overview page."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib import admin
from django.utils import timezone
from django_tenants.utils import schema_context

from apps.events.models import Event
from apps.notifications.models import WebhookDelivery, WebhookEndpoint
from apps.tenancy.models import Tenant
from tests.conftest import client_for
from tests.factories import UserFactory


@pytest.fixture
def operator():
    return client_for(None, UserFactory(is_staff=True, is_superuser=True))


def test_every_admin_model_name_reads_right():
    for model in admin.site._registry:
        meta = model._meta
        singular, plural = str(meta.verbose_name), str(meta.verbose_name_plural)
        assert not re.search(r"(ss|ys)$", plural) or plural.endswith("sses"), f"{meta.label}: {plural}"
        assert plural != singular + "s" or not singular.endswith(("s", "y", "ch", "sh", "x")), f"{meta.label}: {plural}"
    # The ones that read wrong before.
    names = {m._meta.label: str(m._meta.verbose_name_plural) for m in admin.site._registry}
    assert names["identity.RecoveryCodeDevice"] == "sets of recovery codes"
    assert names["identity.TenantSecurity"] == "tenant log-in policies"
    assert names["identity.EmailDevice"] == "email code factors"
    assert apps.get_model("identity", "SMSDevice")._meta.verbose_name_plural == "text message code factors"


def test_admin_field_names_spell_their_abbreviations():
    lower_case = re.compile(r"\b(ip|idp|sso|url|mfa|xml|api|totp|sms)\b")
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            name = str(getattr(field, "verbose_name", ""))
            assert not lower_case.search(name), f"{model._meta.label}.{field.name}: {name}"


@pytest.mark.django_db
def test_the_admin_is_branded(tenant_a, operator):
    html = operator.get("/admin/").content.decode()
    assert "<title>Platform administration | ReactDjango-Hub operations</title>" in html
    assert "ReactDjango-Hub operations</a>" in html and "Django administration" not in html
    assert 'href="/admin/overview/"' in html
    assert "Sets of recovery codes" in html and "Tenant log-in policies" in html


@pytest.mark.django_db
def test_the_admin_keeps_the_strict_policy_and_loads_only_its_own_assets(tenant_a, operator):
    response = operator.get("/admin/identity/user/")
    policy = response["Content-Security-Policy"]
    assert "style-src 'self';" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    html = response.content.decode()
    assert "<style" not in html and not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)
    assert not re.search(r'\sstyle="', html)


@pytest.mark.django_db
def test_overview_counts_tenants_growth_sign_ups_and_trouble(tenant_a, tenant_b, operator):
    Tenant.objects.filter(pk=tenant_b.pk).update(created=timezone.now() - timedelta(weeks=3))
    newcomer = UserFactory(email="newcomer@example.com", full_name="New Comer")
    with schema_context(tenant_b.schema_name):
        endpoint = WebhookEndpoint.objects.create(url="https://example.com/hook", secret="whsec_" + "A" * 44)
        for status in ("failed", "failed", "succeeded"):
            WebhookDelivery.objects.create(endpoint=endpoint, message_id="m", event_type="x", body="{}", status=status)
        long_ago = timezone.now() - timedelta(hours=1)
        Event.objects.create(type="member.joined", occurred_at=long_ago)  # stuck
        Event.objects.create(type="member.joined", occurred_at=long_ago, attempts=2, last_error="ConnectionError")
        Event.objects.create(type="member.joined", occurred_at=timezone.now())  # just published: not stuck yet

    response = operator.get("/admin/overview/")
    assert response.status_code == 200
    context = response.context
    assert context["tenant_count"] == Tenant.objects.exclude(schema_name="public").count()
    growth = context["growth"]
    assert len(growth) == 8 and sum(w["count"] for w in growth) == context["new_this_period"] >= 2
    [row] = context["trouble"]  # alpha has nothing to show
    assert row["tenant"] == tenant_b
    assert (row["failed_deliveries"], row["stuck"], row["failed_dispatches"]) == (2, 2, 1)
    html = response.content.decode()
    assert context["signups"][0] == newcomer and "newcomer@example.com" in html  # the newest first
    assert len(context["signups"]) <= 10


@pytest.mark.django_db
def test_overview_says_when_nothing_needs_attention(tenant_a, operator):
    assert "Nothing needs attention" in operator.get("/admin/overview/").content.decode()


@pytest.mark.django_db
def test_overview_is_for_operators_only(tenant_a, owner_a):
    assert client_for(None, owner_a).get("/admin/overview/").status_code == 302  # to the admin's log-in
    assert client_for(None).get("/admin/overview/").status_code == 302
    assert client_for(tenant_a, owner_a).get("/admin/overview/").status_code == 404  # not on a tenant's host
