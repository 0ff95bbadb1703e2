"""A plugin's tables exist only in the tenants that enabled it.

`PluginRouter` (in DATABASE_ROUTERS, before django-tenants' TenantSyncRouter) lets a plugin's
migrations run in a tenant's schema only if the tenant has its tables (it enabled it once and
did not uninstall it) or the plugin is on by default there; elsewhere migrate_schemas records
them as applied without running them (Django's way with a router that says no). Enabling a
plugin then runs its migrations for that one schema (`plugin_migrate`, on the current
connection): it first forgets those empty records, then migrates the plugin's app to its latest
migration. Uninstalling migrates it back to zero, dropping its tables.
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django_tenants.utils import get_public_schema_name

from apps.core.registry import registry

_allowed: ContextVar[frozenset] = ContextVar("hub_plugin_migrating", default=frozenset())


@contextmanager
def _allowing(schema: str, label: str):
    token = _allowed.set(_allowed.get() | {(schema, label)})
    try:
        yield
    finally:
        _allowed.reset(token)


def _has_tables_here(label: str) -> bool:
    """Whether this schema keeps the plugin's tables (read without ever failing a transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('marketplace_plugininstall') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("SELECT tables, state FROM marketplace_plugininstall WHERE label = %s", [label])
            row = cursor.fetchone()
            if row is not None:
                return bool(row[0]) and row[1] != "uninstalled"
    return registry["plugins"][label].default_enabled


class PluginRouter:
    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label not in registry["plugins"]:
            return None
        schema = getattr(connection, "schema_name", None)
        if schema in (None, get_public_schema_name()) or (schema, app_label) in _allowed.get():
            return None  # the public schema: TenantSyncRouter says no; enabling it here: yes
        return None if _has_tables_here(app_label) else False


def plugin_migrate(label: str, *, to_zero: bool = False, fresh: bool = False) -> None:
    """Migrates the plugin's app in the current schema: to its latest migration, or back to zero.
    `fresh`: its tables were never made here, so first forget the migrations recorded without
    running. Raises whatever a migration raises (the caller's savepoint undoes it).

    Only the plugin's migrations and what they depend on make the model state the operations run
    against (Django's migrate renders every app's): enabling stays quick however big the hub is."""
    executor = MigrationExecutor(connection)
    if fresh:
        executor.recorder.migration_qs.filter(app=label).delete()
        executor.loader.build_graph()
    graph = executor.loader.graph
    leaves = [key for key in graph.leaf_nodes() if key[0] == label]
    if not leaves:
        return
    ours = [key for key in graph.forwards_plan(leaves[0]) if key[0] == label]  # the plugin's, oldest first
    parents = {p.key for key in ours for p in graph.node_map[key].parents if p.key[0] != label}
    state = graph.make_state(nodes=sorted(parents), at_end=True, real_apps=executor.loader.unmigrated_apps)
    applied = executor.loader.applied_migrations
    with _allowing(connection.schema_name, label):
        if not to_zero:
            for key in ours:
                migration = executor.loader.graph.nodes[key]
                if key in applied:
                    state = migration.mutate_state(state, preserve=False)
                else:
                    state = executor.apply_migration(state, migration)
            return
        with connection.cursor() as cursor:  # checks deferred in this transaction would block DROP TABLE
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        before = []
        for key in ours:
            migration = executor.loader.graph.nodes[key]
            before.append((migration, state))
            state = migration.mutate_state(state, preserve=True)
        for migration, its_state in reversed(before):
            if (label, migration.name) in applied:
                executor.unapply_migration(its_state, migration)


def plugin_has_migrations(label: str) -> bool:
    from django.db.migrations.loader import MigrationLoader

    return any(key[0] == label for key in MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
