"""Analytics' tables, in the tenant's schema.

- ProjectKey: the write-only key a web page or a server sends events with.
- Person and PersonDistinctId: the people behind the events; several distinct ids (an anonymous
  browser id, a user id) can point at one person once identified or aliased.
- PersonOverride: persons merged after their events were written (the events keep the old id).
- EventUuid: every event uuid seen, for idempotent writes (see storage.py for why a table).
- Event: the events themselves, in a table partitioned by month. Its table is made and kept by
  storage.py (CREATE TABLE … PARTITION BY RANGE), not by a migration, hence managed = False.
"""

import uuid

from django.conf import settings
from django.db import models

KEY_PREFIX = "phc_"  # PostHog's prefix for project keys: what its SDKs' users expect to paste


class ProjectKey(models.Model):
    """A capture key. It can only send events, so it may be shipped inside a web page. Only a
    SHA-256 hash of the secret is kept; the prefix (shown in the dashboard) finds the row."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    # Origins a browser may send events from ("https://www.example.com"); "*" allows any.
    allowed_origins = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The key the dashboards' own page-view snippet sends with (made by the platform, one per
    # tenant): shown as "Dashboards (built-in)" and never revoked from the keys page.
    builtin = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def status(self) -> str:
        return "revoked" if self.revoked_at else "active"


class PageViewSettings(models.Model):
    """One row per tenant: whether the dashboards record their own page views, and the built-in
    key they send with. A project key may sit in any web page (it can only send events), so the
    built-in one is kept readable here: every member's page carries it."""

    enabled = models.BooleanField(default=True)
    key = models.ForeignKey(ProjectKey, null=True, on_delete=models.SET_NULL, related_name="+")
    raw_key = models.CharField(max_length=128, blank=True, default="")
    updated = models.DateTimeField(auto_now=True)

    def __str__(self):
        return "on" if self.enabled else "off"


class Person(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    properties = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return str(self.uuid)


class PersonDistinctId(models.Model):
    distinct_id = models.CharField(max_length=200, unique=True)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="distinct_ids")

    def __str__(self):
        return self.distinct_id


class PersonOverride(models.Model):
    """A person merged into another after events were written with its id (storage.py, "Persons
    on events"): events whose `person_id` is `old_person_id` are `override_person_id`'s. Kept
    flat: when the survivor is merged in turn, every row pointing at it points at the new one."""

    old_person_id = models.BigIntegerField(primary_key=True)
    override_person_id = models.BigIntegerField(db_index=True)

    def __str__(self):
        return f"{self.old_person_id} → {self.override_person_id}"


class EventUuid(models.Model):
    """An event uuid already written. Kept while an event of its time could still be accepted
    (HUB_ANALYTICS_MAX_AGE_DAYS); older rows are pruned."""

    uuid = models.UUIDField(primary_key=True)
    timestamp = models.DateTimeField(db_index=True)

    def __str__(self):
        return str(self.uuid)


class Event(models.Model):
    """One captured event. The table is partitioned by month on `timestamp`, so its primary key
    (timestamp, uuid) includes the partition key, as PostgreSQL requires."""

    pk = models.CompositePrimaryKey("timestamp", "uuid")
    timestamp = models.DateTimeField()
    uuid = models.UUIDField()
    event = models.CharField(max_length=200)
    distinct_id = models.CharField(max_length=200)
    properties = models.JSONField(default=dict)
    received_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "analytics_event"

    def __str__(self):
        return f"{self.event} by {self.distinct_id}"


class EventStoreChoice(models.Model):
    """Which event store holds this tenant's events (one row, or none: the default store,
    HUB_ANALYTICS_STORE). `moving` is set while `manage.py analytics_move_store` copies the
    history: the writer then leaves events queued in Redis until the move flips the store."""

    STORES = [("postgres", "PostgreSQL"), ("clickhouse", "ClickHouse")]
    store = models.CharField(max_length=20, choices=STORES)
    moving = models.BooleanField(default=False)
    changed = models.DateTimeField(auto_now=True)

    def __str__(self):
        return self.store


class Built(models.Model):
    """What members build and name: insights, cohorts."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        ordering = ["-id"]

    def __str__(self):
        return self.name


class Insight(Built):
    """A saved query (its JSON in `query`, see queries/shapes.py), built by members."""

    query = models.JSONField()


class Cohort(Built):
    """A group of persons, usable as a query filter ({"type": "cohort", "value": <id>}).

    - static: its members are the distinct ids listed in CohortMember; a person belongs when any
      of their distinct ids is listed (so merging persons keeps, and joins, their memberships);
    - rule-based: `filters` (person-property filters, JSON as in a query) and `behaviours`
      ([{"event", "min_count", "days"}]: did the event at least min_count times in the last days),
      all of which must hold, evaluated when a query runs (queries/cohorts.py).
    """

    STATIC = "static"
    RULES = "rules"
    KINDS = [(STATIC, "Static list"), (RULES, "By rules")]

    kind = models.CharField(max_length=10, choices=KINDS, default=STATIC)
    filters = models.JSONField(default=list, blank=True)
    behaviours = models.JSONField(default=list, blank=True)


class CohortMember(models.Model):
    """A distinct id listed in a static cohort (it may not have sent an event yet)."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="members")
    distinct_id = models.CharField(max_length=200)
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cohort", "distinct_id"], name="analytics_cohort_member_once")]

    def __str__(self):
        return self.distinct_id


GRID_COLUMNS = 12  # a dashboard's grid is 12 columns wide; tiles are placed on it by x, y, w, h
TILE_MAX_HEIGHT = 8
DATE_RANGES = {"7d": 7, "14d": 14, "30d": 30, "90d": 90, "180d": 180, "365d": 365}


class Dashboard(models.Model):
    """Saved insights laid out on a grid. `date_range` ("30d": the last 30 days up to today, or
    "" for each insight's own dates) and `filters` (a filter list, see queries/shapes.py) apply to
    every tile's query. `share_secret` salts the signed read-only link (apps/analytics/sharing.py):
    a new secret makes every link given out before stop working."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    date_range = models.CharField(max_length=8, blank=True, default="30d")
    filters = models.JSONField(default=list, blank=True)
    shared = models.BooleanField(default=False)
    share_secret = models.CharField(max_length=64, blank=True, default="")
    is_default = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name", "id"]

    def __str__(self):
        return self.name


class DashboardTile(models.Model):
    """One insight on a dashboard, at column x, row y (from 0), w columns wide and h rows high."""

    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="tiles")
    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="tiles")
    title = models.CharField(max_length=100, blank=True, default="")
    x = models.PositiveSmallIntegerField(default=0)
    y = models.PositiveSmallIntegerField(default=0)
    w = models.PositiveSmallIntegerField(default=6)
    h = models.PositiveSmallIntegerField(default=3)

    class Meta:
        ordering = ["y", "x", "id"]

    def __str__(self):
        return self.title or self.insight.name

    @property
    def label(self) -> str:
        return self.title or self.insight.name


# Reports, exports, scheduled reports and the BI role: their own module (models_reports.py).
from .models_reports import BiAccess, ReportJob, ScheduledReport  # noqa: E402, F401
