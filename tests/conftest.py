"""Shared fixtures.

Two tenants, alpha and beta, each with an owner, are provisioned once per test session (their
schemas are migrated once) and committed; each test then runs inside a transaction that is
rolled back, so tests may change them freely.
"""

import io
import os
import subprocess
import threading
from contextlib import contextmanager, redirect_stderr, redirect_stdout

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from apps.core.db import close_connections_and_pools
from apps.identity.services import organisation_provision
from apps.tenancy.models import Tenant

PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Runs just before pytest-django creates the test database. A connection pool keeps the
    parameters it was made with, and one is made as soon as anything reaches for the database
    (the API schema, generated while tests are collected, does): drop it, so that the next
    connection makes one for the test database instead of the real one."""
    close_connections_and_pools()


@pytest.fixture(scope="session")
def _session_tenants(django_db_setup, django_db_blocker):
    # Never provision test tenants in a real database (pytest-django creates the test database
    # only when a collected test asks for one).
    assert connection.settings_dict["NAME"].startswith("test_"), (
        f"not a test database: {connection.settings_dict['NAME']} (pytest-django creates one only when a "
        "collected test is marked django_db: run browser or e2e files together with such a test)"
    )
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:  # where the connections really go, not only what the settings say
            cursor.execute("SELECT current_database()")
            assert cursor.fetchone()[0] == connection.settings_dict["NAME"]
        made = {}
        for slug in ("alpha", "beta"):
            tenant = Tenant.objects.filter(slug=slug).first()
            if tenant is None:
                tenant, _ = organisation_provision(
                    name=f"{slug.title()} Ltd",
                    slug=slug,
                    owner_email=f"owner@{slug}.example.com",
                    owner_password=PASSWORD,
                )
            made[slug] = tenant.pk
    return made


@pytest.fixture
def tenant_a(_session_tenants, db):
    return Tenant.objects.get(pk=_session_tenants["alpha"])


@pytest.fixture
def tenant_b(_session_tenants, db):
    return Tenant.objects.get(pk=_session_tenants["beta"])


def provision_afresh(slug: str, *, plan: str = "free", owner_password=None, region: str = ""):
    """Provisions `<Slug> Ltd` with owner@<slug>.example.com, first deleting a tenant of that slug
    an interrupted run left behind; returns (tenant, owner)."""
    from apps.tenancy.services import tenant_delete

    old = Tenant.objects.filter(slug=slug).first()
    if old is not None:
        tenant_delete(tenant=old)
    return organisation_provision(
        name=f"{slug.title()} Ltd",
        slug=slug,
        owner_email=f"owner@{slug}.example.com",
        owner_password=owner_password,
        plan=plan,
        region=region,
    )


def owner_of(tenant):
    return tenant.memberships.select_related("user").get(role="owner").user


@pytest.fixture
def owner_a(tenant_a):
    return owner_of(tenant_a)


@pytest.fixture
def owner_b(tenant_b):
    return owner_of(tenant_b)


def host_of(tenant) -> str:
    return settings.HUB_BASE_HOSTNAME if tenant is None else f"{tenant.slug}.{settings.HUB_BASE_HOSTNAME}"


def client_for(tenant=None, user=None) -> Client:
    """A test client on the tenant's host (the public site when tenant is None), logged in as user."""
    client = Client(HTTP_HOST=host_of(tenant))
    if user is not None:
        client.force_login(user)
    return client


def set_mfa_state(client, state: str) -> None:
    """Puts the client's session in a second-factor state (apps.identity.mfa: NONE, PENDING,
    VERIFIED, SSO), as a log-in would have left it."""
    from apps.identity import mfa

    session = client.session
    session[mfa.MFA_STATE_KEY] = state
    session.save()


@pytest.fixture(autouse=True)
def _back_to_public():
    """Every test starts and ends in the public schema."""
    yield
    if hasattr(connection, "set_schema_to_public"):
        connection.set_schema_to_public()


@pytest.fixture(autouse=True)
def _fresh_routing_and_cache():
    from django.core.cache import cache

    from apps.api.metering import meter
    from apps.tenancy.routing import routes

    routes.clear()
    cache.clear()
    meter.clear()  # its leases counted in the Redis just emptied
    yield
    routes.clear()


def subprocess_env(**extra) -> dict:
    """The environment for a process the tests start (a worker, a server): same servers, test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_NAME": connection.settings_dict["NAME"],
        **extra,
    }


def manage(*args) -> subprocess.CompletedProcess:
    """`manage.py <args>` as the command line runs it (the same parsing, error line and exit
    code, Django's ManagementUtility), but in this process and the test's transaction: no Python
    start-up per call (4–20 s under load with coverage). tests/tenancy/test_commands.py runs the
    real manage.py once for what only its own process shows."""
    from unittest import mock

    from django.core.management import ManagementUtility, base

    out, err = io.StringIO(), io.StringIO()
    code = 0
    # run_from_argv closes every connection when the command ends: not the test's, mid-transaction.
    keep = mock.patch.object(base, "connections", mock.Mock(close_all=lambda: None))
    with keep, redirect_stdout(out), redirect_stderr(err):
        try:
            ManagementUtility(["manage.py", *args]).execute()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return subprocess.CompletedProcess(["manage.py", *args], code, out.getvalue(), err.getvalue())


def committed(work):
    """Runs work() on a thread of its own (its own connection, so its writes commit outside the
    test's transaction) and returns its result, re-raising its error."""
    out, errors = [], []

    def run():
        try:
            out.append(work())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return out[0]


# --- Outages: a real server that does not answer (a free port nobody listens on) --------------


def cache_redis_down(settings) -> None:
    """The default cache's Redis (queued-once flags, routing version, rate limits) stops answering
    for the rest of the test (`settings` is pytest-django's fixture, which restores it)."""
    from tests.processes import free_port

    settings.CACHES = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"},
    }


@contextmanager
def broker_down():
    """The Celery broker stops answering until the block ends: sending a task fails."""
    from config.celery import app
    from tests.processes import free_port

    saved = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"
    app._after_fork()  # drops the app's connection and producer pools (as after a fork)
    try:
        yield
    finally:
        app.conf.broker_url = saved
        app._after_fork()


@pytest.fixture(scope="module", autouse=True)
def session_tenants_left_as_found(django_db_blocker):
    """What a module commits in the session tenants alpha and beta through live processes (a
    worker, a live server: events, the notifications made of them, audit entries, the analytics
    events and persons the domain events were recorded as) is deleted after the module, so the
    tests after it find those tenants as the session made them (a module that published 30 events
    left 30 unread notifications in every later test's bell; a worker that dispatched another
    module's outbox left analytics events in tests that count the whole event table). Every module
    uses it; one that commits nothing finds nothing to delete."""
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from apps.analytics import storage
    from apps.analytics.models import Event as AnalyticsEvent
    from apps.analytics.models import EventUuid, Person
    from apps.events.models import Event
    from apps.notifications.models import Notification

    started = timezone.now()
    yield
    if not connection.settings_dict["NAME"].startswith("test_"):
        return  # no test database was made (no database test collected): nothing to clean
    with django_db_blocker.unblock():
        for tenant in Tenant.objects.filter(slug__in=("alpha", "beta")):
            with schema_context(tenant.schema_name):
                Notification.objects.filter(created__gte=started).delete()
                Event.objects.filter(occurred_at__gte=started).delete()
                audit_entries_remove(tenant.schema_name, timestamp__gte=started)
                if storage.event_table_exists():
                    recorded = AnalyticsEvent.objects.filter(received_at__gte=started)
                    EventUuid.objects.filter(uuid__in=list(recorded.values_list("uuid", flat=True))).delete()
                    recorded.delete()
                Person.objects.filter(created__gte=started).delete()


def audit_entries_remove(schema: str, **filters) -> int:
    """Removes the committed audit entries a test left in a schema's log (e.g. a live server's), with
    their seals. A tenant's audit trail is append-only (apps.compliance): this is what the tables'
    owner can do, taking its triggers off for one transaction; the entries removed are the chain's
    last ones, so what stays verifies."""
    from auditlog.models import LogEntry
    from django.db import transaction
    from django_tenants.utils import get_public_schema_name, schema_context

    from apps.compliance.models import AuditSeal

    tables = ("auditlog_logentry", "compliance_auditseal")
    with schema_context(schema), transaction.atomic():
        if schema == get_public_schema_name():
            return LogEntry.objects.filter(**filters).delete()[0]
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        ids = list(LogEntry.objects.filter(**filters).values_list("pk", flat=True))
        AuditSeal.objects.filter(entry_id__in=ids).delete()
        removed = LogEntry.objects.filter(pk__in=ids).delete()[0]
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    return removed
