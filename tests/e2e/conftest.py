"""Fixtures of the tests that watch a live hub's tenants share database connections
(test_pgbouncer.py, test_db_connections.py)."""

from importlib import import_module

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django_tenants.utils import schema_context

from apps.tenancy.models import Tenant
from tests.conftest import audit_entries_remove, owner_of
from tests.e2e.probe_urls import MARKER


@pytest.fixture(scope="module")
def markers(_session_tenants, django_db_blocker):
    """One committed row in each session tenant's own audit log (a table every tenant schema has)."""
    with django_db_blocker.unblock():
        tenants = list(Tenant.objects.filter(pk__in=_session_tenants.values()))
        for tenant in tenants:
            with schema_context(tenant.schema_name):
                ContentType.objects.clear_cache()  # its ids are the schema's own
                LogEntry.objects.create(
                    content_type=ContentType.objects.get_for_model(Tenant),
                    object_pk=str(tenant.pk),
                    object_repr=MARKER + tenant.slug,
                    action=LogEntry.Action.UPDATE,
                )
        ContentType.objects.clear_cache()
        yield {t.slug: t for t in tenants}
        for tenant in tenants:
            audit_entries_remove(tenant.schema_name, object_repr__startswith=MARKER)
        ContentType.objects.clear_cache()


@pytest.fixture(scope="module")
def sessions(markers, django_db_blocker):
    """A logged-in session of each tenant's owner, committed so the server processes see it (in
    the database: sessions are cached_db, so the per-test cache flush does not end them):
    slug → (owner's email, session key).

    Made by hand rather than by logging in, so that no log-in side effect (session rows, audit
    entries) outlives the module; the sessions themselves are deleted at the end.
    """
    store = import_module(settings.SESSION_ENGINE).SessionStore
    with django_db_blocker.unblock():
        made, stores = {}, []
        for slug, tenant in markers.items():
            owner = owner_of(tenant)
            session = store()
            session[SESSION_KEY] = str(owner.pk)
            session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
            session[HASH_SESSION_KEY] = owner.get_session_auth_hash()
            session.create()
            stores.append(session)
            made[slug] = (owner.email, session.session_key)
        yield made
        for session in stores:
            session.delete()


from tests.jetstream import jetstream, nats_url, stream_on  # noqa: E402, F401
