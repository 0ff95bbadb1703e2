"""Persons on events: the writer stores each event's person, merges after the events are recorded
as overrides (kept flat), funnels read the events' own persons without a join and answer what
the join answers; events stored before the column take the join until the backfill fills them."""

import importlib
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django_tenants.utils import schema_context

from apps.analytics import services, storage
from apps.analytics.models import Person, PersonDistinctId, PersonOverride
from apps.analytics.queries.funnels import funnel, persons_on_events
from apps.analytics.queries.shapes import Filter, FunnelQuery, Range, Step

from .querydata import TZ, loaded

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 5, 12, tzinfo=UTC)
DAY = Range(date(2026, 3, 5), date(2026, 3, 5))
FUNNEL = FunnelQuery(range=DAY, steps=(Step("view"), Step("signup"), Step("pay")))


def _row(n, name, distinct_id, at, change=None):
    when = at.isoformat()
    return [when, f"00000000-0000-4000-8000-{n:012d}", name, distinct_id, "{}", when, change]


def _persons_of_events() -> dict[str, int]:
    """{event uuid's last digits: the person id stored on it}."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT right(uuid::text, 2), person_id FROM analytics_event ORDER BY 1")
        return dict(cursor.fetchall())


def _person(distinct_id) -> int:
    return PersonDistinctId.objects.get(distinct_id=distinct_id).person_id


def _counts(**kwargs) -> list[int]:
    return [s["count"] for s in funnel(FUNNEL, tz=TZ, **kwargs)["steps"]]


def _the_story():
    """anon views, then signs up as user (identify merges anon into user); user pays from a
    phone (ph) that is later aliased to user2, whom user is then merged into: three persons become
    one, after their events were written. Another visitor (other) only views."""
    services.rows_write([_row(1, "view", "anon", NOON), _row(2, "view", "other", NOON)])
    services.rows_write([_row(3, "signup", "user", NOON + timedelta(minutes=5), {"merge": "anon"})])
    services.rows_write([_row(4, "pay", "ph", NOON + timedelta(minutes=9))])
    services.rows_write([_row(5, "$create_alias", "user2", NOON + timedelta(hours=2), {"merge": "ph"})])
    services.rows_write([_row(6, "$identify", "user2", NOON + timedelta(hours=3), {"merge": "user"})])


def test_each_event_keeps_the_person_it_was_written_for_and_merges_become_flat_overrides(tenant_a):
    with schema_context(tenant_a.schema_name), loaded([], {}):
        services.rows_write([_row(1, "view", "anon", NOON), _row(2, "view", "other", NOON)])
        anon = _person("anon")
        assert _persons_of_events() == {"01": anon, "02": _person("other")}
        _the_story()
        survivor = _person("user2")
        assert {_person(d) for d in ("anon", "user", "ph", "user2")} == {survivor}
        # the events keep their first persons; the overrides point each one at the survivor at once
        stored = _persons_of_events()
        assert stored["01"] == anon and anon != survivor
        overrides = dict(PersonOverride.objects.values_list("old_person_id", "override_person_id"))
        assert set(overrides.values()) == {survivor}
        assert {stored[n] for n in ("01", "03", "04")} - {survivor} <= overrides.keys()
        assert not Person.objects.filter(pk__in=overrides.keys()).exists()  # merged persons are gone


def test_funnels_read_the_events_persons_and_answer_what_the_join_answers(tenant_a):
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _the_story()
        assert persons_on_events(FUNNEL, TZ)
        # anon's view, user's signup and ph's pay are one person's: 2 entered, 1 went through
        assert _counts() == _counts(method="join") == _counts(method="sql") == [2, 1, 1]
        assert funnel(FUNNEL, tz=TZ) == funnel(FUNNEL, tz=TZ, method="join")


def test_a_filter_on_the_person_takes_the_join(tenant_a):
    query = FunnelQuery(range=DAY, steps=FUNNEL.steps, filters=(Filter("person", "plan", "eq", "pro"),))
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _the_story()
        assert not persons_on_events(query, TZ)
        Person.objects.filter(pk=_person("user2")).update(properties={"plan": "pro"})
        assert [s["count"] for s in funnel(query, tz=TZ)["steps"]] == [1, 1, 1]


def test_events_stored_before_the_column_take_the_join_until_the_backfill_fills_them(tenant_a):
    """A tenant whose event table predates the person column: the migration adds it (empty), the
    partition task its indexes; funnels take the join over a range holding such events, and the
    backfill gives each its distinct id's person now."""
    migration = importlib.import_module("apps.analytics.migrations.0009_person_overrides")
    with schema_context(tenant_a.schema_name), loaded([], {}):
        _the_story()
        expected = funnel(FUNNEL, tz=TZ)
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE analytics_event DROP COLUMN person_id")  # as before the change
            cursor.execute(migration.ADD_PERSON_ID)
        storage.indexes_ensure()
        assert set(_persons_of_events().values()) == {None}
        assert not persons_on_events(FUNNEL, TZ)
        assert funnel(FUNNEL, tz=TZ) == expected
        # a later range holds none of them: the events' persons serve there
        assert persons_on_events(FunnelQuery(range=Range(date(2026, 3, 7), date(2026, 3, 7)), steps=FUNNEL.steps), TZ)

        assert services.person_ids_backfill() == 6
        assert set(_persons_of_events().values()) == {_person("user2"), _person("other")}
        assert persons_on_events(FUNNEL, TZ)
        assert funnel(FUNNEL, tz=TZ) == expected
        assert services.person_ids_backfill() == 0  # nothing left


def test_the_backfill_command_shows_progress_and_names_an_unknown_tenant(tenant_a):
    with schema_context(tenant_a.schema_name), loaded([], {}):
        services.rows_write([_row(1, "view", "anon", NOON)])
        with connection.cursor() as cursor:
            cursor.execute("UPDATE analytics_event SET person_id = NULL")
        out = io.StringIO()
        call_command("analytics_person_ids_backfill", "--tenant", tenant_a.slug, stdout=out)
        assert "[########################] 100%" in out.getvalue()
        assert "1 events given their person." in out.getvalue()
        assert _persons_of_events() == {"01": _person("anon")}
    with pytest.raises(CommandError, match="No tenant with the slug"):
        call_command("analytics_person_ids_backfill", "--tenant", "no-such-tenant")
