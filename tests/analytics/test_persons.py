"""Persons: every distinct id has one; identify and alias merge ids into one person; $set and
$set_once change its properties, in the order the events happened."""

from datetime import UTC, datetime, timedelta

import pytest
from django_tenants.utils import schema_context

from apps.analytics import selectors
from apps.analytics.models import Person

from .conftest import host_client, post_json, write

pytestmark = pytest.mark.django_db


def send(tenant, key_raw, *events):
    start = datetime.now(UTC) - timedelta(minutes=10)
    batch = [{**e, "timestamp": (start + timedelta(seconds=i)).isoformat()} for i, e in enumerate(events)]
    response = post_json(host_client(tenant), "/batch/", {"api_key": key_raw, "batch": batch})
    assert response.json()["accepted"] == len(events), response.content
    write(tenant)


def person(tenant, distinct_id):
    with schema_context(tenant.schema_name):
        found = selectors.person_of(distinct_id)
        return found and (found.pk, found.properties, sorted(found.distinct_ids.values_list("distinct_id", flat=True)))


def test_each_distinct_id_gets_a_person(tenant_a, key_a):
    send(tenant_a, key_a[1], {"event": "x", "distinct_id": "a"}, {"event": "x", "distinct_id": "b"})
    assert person(tenant_a, "a")[0] != person(tenant_a, "b")[0]


def test_identify_merges_the_anonymous_id_into_the_user(tenant_a, key_a):
    send(
        tenant_a,
        key_a[1],
        {"event": "$pageview", "distinct_id": "anon-1", "properties": {"$set_once": {"first_page": "/pricing"}}},
        {"event": "$pageview", "distinct_id": "user-9", "properties": {"$set": {"email": "old@example.com"}}},
        {
            "event": "$identify",
            "distinct_id": "user-9",
            "properties": {"$anon_distinct_id": "anon-1", "$set": {"email": "jo@example.com"}},
        },
    )
    pk, properties, ids = person(tenant_a, "anon-1")
    assert ids == ["anon-1", "user-9"]
    assert properties == {"first_page": "/pricing", "email": "jo@example.com"}
    with schema_context(tenant_a.schema_name):
        assert not Person.objects.filter(distinct_ids__isnull=True).exists()  # the anonymous one is gone


def test_alias_links_two_ids_as_posthog_python_sends_it(tenant_a, key_a):
    send(
        tenant_a,
        key_a[1],
        {"event": "x", "distinct_id": "old-id"},
        {"event": "$create_alias", "distinct_id": "old-id", "properties": {"distinct_id": "old-id", "alias": "new-id"}},
    )
    assert person(tenant_a, "new-id")[2] == ["new-id", "old-id"]


def test_set_overwrites_and_set_once_keeps_the_first_value(tenant_a, key_a):
    send(
        tenant_a,
        key_a[1],
        {"event": "$set", "distinct_id": "u", "$set": {"plan": "free"}, "$set_once": {"signup": "2026-01-01"}},
        {"event": "$set", "distinct_id": "u", "$set": {"plan": "team"}, "$set_once": {"signup": "2026-05-05"}},
    )
    assert person(tenant_a, "u")[1] == {"plan": "team", "signup": "2026-01-01"}


def test_a_resent_set_is_not_applied_again(tenant_a, key_a):
    first = {"event": "$set", "distinct_id": "u", "$set": {"n": 1}, "uuid": "00000000-0000-4000-8000-000000000001"}
    send(tenant_a, key_a[1], first)
    send(tenant_a, key_a[1], {"event": "$set", "distinct_id": "u", "$set": {"n": 2}})
    send(tenant_a, key_a[1], first)  # a late re-send of the first one
    assert person(tenant_a, "u")[1] == {"n": 2}
