"""Cache keys carry the schema of the tenant being served, so tenants never read each other's entries."""

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection
from django_tenants.utils import schema_context, tenant_context


@pytest.mark.django_db
def test_key_set_in_one_tenant_is_invisible_to_the_other_and_to_public(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        cache.set("greeting", "hello from alpha")
    with tenant_context(tenant_b):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from beta")
    with schema_context("public"):
        assert cache.get("greeting") is None
        cache.set("greeting", "hello from public")

    with tenant_context(tenant_a):
        assert cache.get("greeting") == "hello from alpha"
    with tenant_context(tenant_b):
        assert cache.get("greeting") == "hello from beta"
    with schema_context("public"):
        assert cache.get("greeting") == "hello from public"


@pytest.mark.django_db
def test_deleting_in_one_tenant_leaves_the_others(tenant_a, tenant_b):
    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            cache.set("counter", tenant.slug)
    with tenant_context(tenant_a):
        cache.delete("counter")
        assert cache.get("counter") is None
    with tenant_context(tenant_b):
        assert cache.get("counter") == "beta"


@pytest.mark.django_db
def test_raw_redis_key_starts_with_the_schema_name(tenant_a):
    with tenant_context(tenant_a):
        cache.set("marker", 1)
    keys = [key.decode() for key in get_redis_connection("default").keys("*marker")]
    assert len(keys) == 1
    assert keys[0].startswith("t_alpha:")
    with tenant_context(tenant_a):
        assert cache.keys("*") == ["marker"]  # and the prefix is stripped again on the way out
