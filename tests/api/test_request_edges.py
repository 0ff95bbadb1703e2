"""API requests at the edges an integrator can reach: other authentication schemes, date-times
that leave the database's range once put in UTC, and orderings that are not offered."""

import pytest
from django_tenants.utils import schema_context

from apps.api.models import ApiKey
from tests.api.conftest import api_client

pytestmark = pytest.mark.django_db

FAR_PAST = "0001-01-01T00:30:00+14:00"  # a valid ISO date-time whose UTC value is before year 1


def fields_of(response) -> set[str]:
    assert response["Content-Type"].startswith("application/problem+json"), response.content
    return {error["field"] for error in response.json()["errors"]}


def test_another_authorization_scheme_is_not_taken_for_a_key(tenant_a, key_a):
    client = api_client(tenant_a)
    response = client.get("/api/v1/members/", HTTP_AUTHORIZATION=f"Basic {key_a[1]}")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


def test_an_expiry_out_of_range_in_utc_is_a_400_naming_the_field(tenant_a, api_a):
    response = api_a.post(
        "/api/v1/api-keys/", {"name": "far", "scopes": ["audit:read"], "expires_at": FAR_PAST}, "application/json"
    )
    assert response.status_code == 400
    assert fields_of(response) == {"expires_at"}
    assert "out of range" in response.json()["errors"][0]["message"]
    with schema_context(tenant_a.schema_name):
        assert not ApiKey.objects.filter(name="far").exists()


def test_a_filter_date_out_of_range_in_utc_is_a_400_naming_the_parameter(tenant_a, api_a):
    response = api_a.get("/api/v1/audit-log/", {"since": FAR_PAST})
    assert response.status_code == 400
    assert fields_of(response) == {"since"}
    assert "out of range" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("ordering", ["password", "-role,-id"])
def test_an_ordering_that_is_not_offered_is_a_400_listing_the_choices(tenant_a, api_a, ordering):
    response = api_a.get("/api/v1/members/", {"ordering": ordering})
    assert response.status_code == 400
    assert fields_of(response) == {"ordering"}
    assert "Order by one of: id, -id, created, -created, role, -role." in response.json()["errors"][0]["message"]


def test_an_offered_ordering_sorts_the_list(tenant_a, api_a):
    response = api_a.get("/api/v1/members/", {"ordering": "-id"})
    assert response.status_code == 200
    ids = [member["id"] for member in response.json()["results"]]
    assert ids == sorted(ids, reverse=True)
