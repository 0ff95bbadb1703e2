"""What operators do to tenants in the admin beyond suspending: resuming and deleting (one or
many), each through the tenancy services so the schema goes with the row; and the Redis
addresses each client library is given."""

import pytest
from django_tenants.utils import schema_exists

from apps.identity.services import organisation_provision
from apps.tenancy.models import Tenant
from tests.conftest import PASSWORD, client_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator():
    return client_for(None, UserFactory(is_staff=True, is_superuser=True))


def provision(slug):
    tenant, _ = organisation_provision(
        name=slug.title(), slug=slug, owner_email=f"owner@{slug}.example.com", owner_password=PASSWORD
    )
    return tenant


def test_an_operator_resumes_suspended_tenants(tenant_a, operator):
    Tenant.objects.filter(pk=tenant_a.pk).update(status=Tenant.Status.SUSPENDED)
    response = operator.post("/admin/tenancy/tenant/", {"action": "resume", "_selected_action": [tenant_a.pk]})
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.status == Tenant.Status.ACTIVE


def test_the_public_schema_is_not_listed_and_tenants_are_not_added_in_the_admin(tenant_a, operator):
    page = operator.get("/admin/tenancy/tenant/")
    assert page.status_code == 200
    listed = set(page.context["cl"].queryset.values_list("schema_name", flat=True))
    assert "public" not in listed and "t_alpha" in listed
    assert operator.get("/admin/tenancy/tenant/add/").status_code == 403


def test_deleting_a_tenant_in_the_admin_drops_its_schema(tenant_a, operator):
    tenant = provision("gone-one")
    response = operator.post(f"/admin/tenancy/tenant/{tenant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Tenant.objects.filter(slug="gone-one").exists()
    assert not schema_exists("t_gone_one")


def test_deleting_tenants_in_bulk_drops_each_schema(tenant_a, operator):
    tenants = [provision("gone-two"), provision("gone-three")]
    response = operator.post(
        "/admin/tenancy/tenant/",
        {"action": "delete_selected", "_selected_action": [t.pk for t in tenants], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Tenant.objects.filter(slug__in=["gone-two", "gone-three"]).exists()
    assert not schema_exists("t_gone_two") and not schema_exists("t_gone_three")
    assert schema_exists("t_alpha")


def test_each_redis_client_gets_the_address_form_it_understands(monkeypatch):
    from config.settings import base

    monkeypatch.setattr(base, "REDIS_URL", "unix:///run/hub/redis.sock")
    assert base.redis_url_for("kombu", 2) == "redis+socket:///run/hub/redis.sock?virtual_host=2"
    assert base.redis_url_for("redis", 1) == "unix:///run/hub/redis.sock?db=1"
    monkeypatch.setattr(base, "REDIS_URL", "redis://:secret@cache.internal:6380/0")
    assert base.redis_url_for("kombu", 2) == "redis://:secret@cache.internal:6380/2"
