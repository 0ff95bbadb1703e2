"""API fixtures: keys made inside the test's transaction, clients that send them."""

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from apps.api.keycache import cache as key_cache
from apps.api.services import api_key_create
from apps.core.api import scopes
from apps.identity.models import Membership
from tests.conftest import host_of

ALL_SCOPES = None  # every registered scope, resolved at call time


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    key_cache.clear()
    yield
    key_cache.clear()


def make_key(tenant, user=None, scope_list=ALL_SCOPES, name="test key", **extra):
    """A key of `tenant` acting as `user` (default: its owner); returns (ApiKey, raw secret)."""
    membership = (
        Membership.objects.select_related("user", "tenant").get(tenant=tenant, user=user)
        if user is not None
        else Membership.objects.select_related("user", "tenant").filter(tenant=tenant, role="owner").first()
    )
    with schema_context(tenant.schema_name):
        return api_key_create(
            actor=membership, name=name, scopes=scopes.all_scopes() if scope_list is None else scope_list, **extra
        )


def api_client(tenant, raw_key=None) -> Client:
    """A client on the tenant's host sending `Authorization: Bearer <raw_key>`."""
    headers = {"HTTP_HOST": host_of(tenant)}
    if raw_key:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
    return Client(**headers)


@pytest.fixture
def key_a(tenant_a):
    return make_key(tenant_a)


@pytest.fixture
def key_b(tenant_b):
    return make_key(tenant_b)


@pytest.fixture
def api_a(tenant_a, key_a):
    return api_client(tenant_a, key_a[1])


@pytest.fixture
def api_b(tenant_b, key_b):
    return api_client(tenant_b, key_b[1])
