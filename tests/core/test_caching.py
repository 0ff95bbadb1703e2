"""Per-tenant cached selectors (apps.core.caching): a second read costs no query; a dispatched
domain event makes the reads of the topics it touches stale, through the real outbox dispatcher;
tenant A's entries never answer tenant B, even for the same arguments; with Redis away the
selectors read the database and the pages still work; hits, misses and errors are counted."""

import pytest
from django.db import connection
from django_tenants.utils import tenant_context
from prometheus_client import REGISTRY

from apps.core import caching
from apps.core.events import publish
from apps.events.services import events_dispatch_new
from apps.notifications import selectors
from apps.notifications.models import Notification
from apps.notifications.services import notification_mark_all_read
from tests.conftest import cache_redis_down, client_for
from tests.events.fixtures import add_member

pytestmark = pytest.mark.django_db
UNREAD = "apps.notifications.selectors.unread_count"
PAYLOAD = {"changes": {"name": {"old": "A", "new": "B"}}}


def counted(selector: str, result: str) -> float:
    return REGISTRY.get_sample_value("hub_selector_cache_total", {"selector": selector, "result": result}) or 0.0


def notify(user, title="Hello"):
    return Notification.objects.create(user=user, event_type="member.joined", title=title, in_app=True)


def test_a_second_read_is_served_from_the_cache(tenant_a, owner_a, django_assert_num_queries):
    with tenant_context(tenant_a):
        notify(owner_a)
        hits, misses = counted(UNREAD, "hit"), counted(UNREAD, "miss")
        assert selectors.unread_count(user_id=owner_a.pk) == 1
        with django_assert_num_queries(0):
            assert selectors.unread_count(user_id=owner_a.pk) == 1
    assert counted(UNREAD, "miss") == misses + 1 and counted(UNREAD, "hit") == hits + 1


def test_arguments_are_part_of_the_key(tenant_a, owner_a):
    with tenant_context(tenant_a):
        notify(owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 1
        assert selectors.unread_count(user_id=owner_a.pk + 10_000) == 0


def test_a_published_event_makes_its_topics_fresh_when_it_commits(
    tenant_a, owner_a, django_capture_on_commit_callbacks
):
    with tenant_context(tenant_a):
        before = selectors.activity_recent(limit=5)
        version = caching._topic_versions(tenant_a.schema_name, ("activity",))
        with django_capture_on_commit_callbacks() as after_commit:
            publish("organisation.settings_changed", PAYLOAD, tenant=tenant_a, actor=owner_a)
            # Before the commit, the publishing transaction reads its own write, around the cache.
            assert len(selectors.activity_recent(limit=5)) == min(5, len(before) + 1)
        assert caching._topic_versions(tenant_a.schema_name, ("activity",)) == version  # not committed yet
        for callback in after_commit:
            callback()
        assert caching._topic_versions(tenant_a.schema_name, ("activity",)) != version


def test_the_outbox_dispatcher_bumps_the_topics_of_the_events_it_dispatched(
    tenant_a, owner_a, django_capture_on_commit_callbacks
):
    """What the handlers derive from an event (notifications, analytics) is fresh after dispatch."""
    with tenant_context(tenant_a):
        with django_capture_on_commit_callbacks(execute=True):
            publish(
                "member.joined",
                {"user_id": owner_a.pk, "email": owner_a.email, "role": "member"},
                tenant=tenant_a,
                actor=owner_a,
            )
        before = caching._topic_versions(tenant_a.schema_name, ("activity", "member", "organisation"))
        with django_capture_on_commit_callbacks(execute=True):
            assert events_dispatch_new() >= 1  # the real dispatcher, as the worker runs it
        after = caching._topic_versions(tenant_a.schema_name, ("activity", "member", "organisation"))
    assert after[0] > before[0] and after[1] > before[1]  # activity and member bumped
    assert after[2] == before[2]  # a topic the event does not touch is left alone


def test_an_event_bumps_its_nouns_topic_and_the_activity_feeds_only(tenant_a):
    assert caching.event_topics("member.joined") == {"member", "activity"}
    assert caching.event_topics("api_key.revoked") == {"api_key", "activity"}


def test_marking_read_makes_the_unread_count_fresh(tenant_a, owner_a, django_capture_on_commit_callbacks):
    with tenant_context(tenant_a):
        notify(owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 1
        with django_capture_on_commit_callbacks(execute=True):
            notification_mark_all_read(user=owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 0


def test_one_tenants_entries_never_answer_another(tenant_a, tenant_b, owner_a):
    """The same selector with the same arguments (the same user id) in two schemas."""
    with tenant_context(tenant_a):
        notify(owner_a)
        notify(owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 2
        assert selectors.latest_notification_id(user=owner_a) > 0
    with tenant_context(tenant_b):
        assert connection.schema_name == tenant_b.schema_name
        assert selectors.unread_count(user_id=owner_a.pk) == 0
        assert selectors.latest_notification_id(user=owner_a) == 0
    with tenant_context(tenant_a):
        caching.topics_bump(topics=["notification"])
    with tenant_context(tenant_b):  # a bump in A leaves B's entries as they are
        hits = counted(UNREAD, "hit")
        assert selectors.unread_count(user_id=owner_a.pk) == 0
        assert counted(UNREAD, "hit") == hits + 1


def test_the_bell_on_each_tenants_pages_counts_that_tenants_notifications(tenant_a, tenant_b, owner_a):
    """One person, a member of both organisations (the same user id): each page's bell reads its
    own tenant's cached count."""
    add_member(tenant_b, owner_a.email)
    with tenant_context(tenant_a):
        notify(owner_a, "Only in Alpha")
    assert "Notifications: 1 unread" in client_for(tenant_a, owner_a).get("/").content.decode()
    assert "Notifications: 0 unread" in client_for(tenant_b, owner_a).get("/").content.decode()
    assert "Notifications: 1 unread" in client_for(tenant_a, owner_a).get("/").content.decode()


def test_with_redis_away_the_selectors_read_the_database(tenant_a, owner_a, settings):
    cache_redis_down(settings)
    errors = counted(UNREAD, "error")
    with tenant_context(tenant_a):
        notify(owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 1
        notify(owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 2
        caching.topics_bump(topics=["notification"])  # logged, not raised
    assert counted(UNREAD, "error") == errors + 2


def test_a_version_redis_lost_never_brings_back_an_old_entry(tenant_a, owner_a):
    from django.core.cache import cache

    with tenant_context(tenant_a):
        notify(owner_a)
        assert selectors.unread_count(user_id=owner_a.pk) == 1
        cache.delete(caching._version_key(tenant_a.schema_name, "notification"))  # evicted
        notify(owner_a)  # written without a bump (as if the bump were lost with the version)
        assert selectors.unread_count(user_id=owner_a.pk) == 2


def test_off_by_setting_reads_the_database_every_time(tenant_a, owner_a, settings, django_assert_num_queries):
    settings.HUB_SELECTOR_CACHE_ENABLED = False
    with tenant_context(tenant_a):
        selectors.unread_count(user_id=owner_a.pk)
        with django_assert_num_queries(1):
            selectors.unread_count(user_id=owner_a.pk)


def test_a_bump_made_from_the_public_schema_reaches_the_tenants_reads(tenant_a, django_capture_on_commit_callbacks):
    """A public-site flow (accepting an invitation, say) publishes a tenant's event while the
    connection serves the public schema: its bump must reach the keys the tenant's pages read."""
    with tenant_context(tenant_a):
        before = caching._topic_versions(tenant_a.schema_name, ("member",))
    assert connection.schema_name == "public"
    with django_capture_on_commit_callbacks(execute=True):
        caching.topics_bump_on_commit("member", schema_name=tenant_a.schema_name)
    with tenant_context(tenant_a):
        assert caching._topic_versions(tenant_a.schema_name, ("member",)) != before


def test_a_read_about_a_tenant_is_keyed_by_that_tenant_whatever_the_schema_served(tenant_a, tenant_b):
    from apps.identity.selectors import someone_invited

    with tenant_context(tenant_b):  # the tenant argument decides, not the connection's schema
        alpha = someone_invited(tenant=tenant_a)
        beta = someone_invited(tenant=tenant_b)
    with tenant_context(tenant_a):
        assert someone_invited(tenant=tenant_a) == alpha
        assert someone_invited(tenant=tenant_b) == beta
