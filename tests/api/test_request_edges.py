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


def test_an_expiry_before_the_calendar_in_utc_is_refused_as_in_the_past(tenant_a, api_a):
    response = api_a.post(
        "/api/v1/api-keys/", {"name": "far", "scopes": ["audit:read"], "expires_at": FAR_PAST}, "application/json"
    )
    assert response.status_code == 422
    assert fields_of(response) == {"expires_at"}
    assert response.json()["errors"][0]["message"] == "Choose a time in the future."
    with schema_context(tenant_a.schema_name):
        assert not ApiKey.objects.filter(name="far").exists()


def test_a_filter_date_before_the_calendar_in_utc_means_from_the_beginning(tenant_a, api_a):
    everything = api_a.get("/api/v1/audit-log/").json()["results"]
    response = api_a.get("/api/v1/audit-log/", {"since": FAR_PAST})
    assert response.status_code == 200
    assert response.json()["results"] == everything


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


def test_one_cursor_at_a_time(tenant_a, api_a):
    response = api_a.get("/api/v1/members/?cursor=a&cursor=b")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "cursor", "message": "Give one cursor.", "code": "invalid"}]


def test_a_key_without_its_secret_part_is_malformed(tenant_a):
    response = api_client(tenant_a, "hub_abcdefghijklmnopqrstuvwxyz").get("/api/v1/members/")
    assert response.status_code == 401
    assert "Malformed API key" in response.json()["detail"]


def test_a_deprecated_version_without_a_sunset_or_link_says_only_that(tenant_a, api_a, settings):
    settings.HUB_API_DEPRECATED_VERSIONS = {"v1": {"deprecated": "2026-01-01"}}
    response = api_a.get("/api/v1/tenant/")
    assert response.status_code == 200
    assert response["Deprecation"] == "@1767225600"
    assert "Sunset" not in response and "Link" not in response


def test_an_app_cannot_register_its_scopes_twice():
    from apps.core.registry import ApiScope, register_api_scope

    with pytest.raises(ValueError, match="api_scopes: 'events' is registered twice"):
        register_api_scope(ApiScope("events", "again"))


def test_with_redis_down_keys_still_work_and_a_revoked_key_stops(
    tenant_a, owner_a, settings, caplog, django_capture_on_commit_callbacks
):
    from apps.api.services import api_key_revoke
    from apps.identity.models import Membership
    from tests.api.conftest import make_key
    from tests.conftest import cache_redis_down

    kept, kept_raw = make_key(tenant_a, name="kept")
    revoked, revoked_raw = make_key(tenant_a, name="revoked")
    cache_redis_down(settings)
    assert api_client(tenant_a, kept_raw).get("/api/v1/members/").status_code == 200  # no rate limit meanwhile
    with schema_context(tenant_a.schema_name), django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(actor=Membership.objects.get(tenant=tenant_a, user=owner_a), key=revoked)
    assert "could not publish an API key change" in caplog.text
    assert api_client(tenant_a, revoked_raw).get("/api/v1/members/").status_code == 401
    assert api_client(tenant_a, kept_raw).get("/api/v1/members/").status_code == 200
