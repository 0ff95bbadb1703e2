"""New schemas are cloned from the template: they must equal a schema built by the migrations."""

import logging

import pytest
from django.db import connection

from apps.tenancy import schemas


def _catalogue(schema):
    """Everything a clone must reproduce, with the schema name taken out."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path = pg_catalog")
        cursor.execute(
            """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                      pg_get_expr(d.adbin, d.adrelid)
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE n.nspname = %s AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
               ORDER BY 1, a.attnum""",
            [schema],
        )
        columns = cursor.fetchall()
        cursor.execute(
            """SELECT conname, pg_get_constraintdef(co.oid) FROM pg_constraint co
               JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = %s ORDER BY 1""",
            [schema],
        )
        constraints = [(name, d.replace(f"{schema}.", "S.")) for name, d in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname, replace(indexdef, %s, 'S.') FROM pg_indexes WHERE schemaname = %s ORDER BY 1",
            [f"{schema}.", schema],
        )
        indexes = cursor.fetchall()
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY 1, 2')
        migrations = cursor.fetchall()
        cursor.execute(f'SELECT id, app_label, model FROM "{schema}".django_content_type ORDER BY 1')
        content_types = cursor.fetchall()
        cursor.execute("SET LOCAL search_path = public")
    return columns, constraints, indexes, migrations, content_types


@pytest.mark.django_db
@pytest.mark.parametrize("cyclic", [False, True], ids=["ordered", "foreign-keys-afterwards"])
def test_cloned_schema_equals_a_migrated_one(cyclic, monkeypatch):
    """Both ways of writing the DDL: constraints inside CREATE TABLE in dependency order, and
    (when tables point at each other) foreign keys added after every table exists."""
    import graphlib

    from apps.identity.services import organisation_provision

    schemas._clone_sql.clear()
    if cyclic:

        def cycle(self):
            raise graphlib.CycleError("tables point at each other")

        monkeypatch.setattr(graphlib.TopologicalSorter, "static_order", cycle)
    try:
        organisation_provision(name="Clone", slug="clone-check", owner_email="clone@example.com")
    finally:
        schemas._clone_sql.clear()
    with connection.cursor() as cursor:
        cursor.execute('CREATE SCHEMA "ref_migrated"')
    schemas._migrate("ref_migrated")
    cloned, migrated = _catalogue("t_clone_check"), _catalogue("ref_migrated")
    for part, name in zip(range(5), ["columns", "constraints", "indexes", "migrations", "content types"], strict=True):
        assert cloned[part] == migrated[part], name
    assert cloned[0] and cloned[3]  # not trivially equal


@pytest.mark.django_db
def test_cloned_identity_sequences_continue_after_copied_rows(tenant_a):
    from django.contrib.contenttypes.models import ContentType
    from django_tenants.utils import schema_context

    with schema_context(tenant_a.schema_name):
        highest = ContentType.objects.order_by("-id").first().id
        created = ContentType.objects.create(app_label="probe", model="probe")
    assert created.id == highest + 1


@pytest.mark.django_db
def test_stale_template_is_rebuilt_before_cloning(tenant_a):
    """A template missing a migration is never handed out: it is rebuilt first."""
    schemas.template_ensure()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {schemas.TEMPLATE_SCHEMA}.django_migrations WHERE app = 'auditlog'")
    assert schemas.pending_migrations(schemas.applied_migrations([schemas.TEMPLATE_SCHEMA])["hub_template"])
    from apps.identity.services import organisation_provision

    organisation_provision(name="Fresh", slug="fresh-template", owner_email="fresh@example.com")
    applied = schemas.applied_migrations(["t_fresh_template", schemas.TEMPLATE_SCHEMA])
    assert not schemas.pending_migrations(applied["t_fresh_template"])
    assert not schemas.pending_migrations(applied[schemas.TEMPLATE_SCHEMA])


T = schemas.TEMPLATE_SCHEMA


def _content_types(schema):
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT app_label, model FROM "{schema}".django_content_type ORDER BY 1, 2')
        return cursor.fetchall()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mistake", "warning"),
    [
        (f"INSERT INTO {T}.django_content_type (app_label, model) VALUES ('stray', 'row')", "did not write"),
        (f"UPDATE {T}.django_content_type SET model = 'stray' WHERE id = (SELECT min(id) FROM {T}.django_content_type)",
         "did not write"),
        (f"COMMENT ON SCHEMA {T} IS NULL", "has no record"),
    ],
    ids=["row-added", "row-changed", "record-lost"],
)
def test_a_template_whose_rows_are_not_its_migrations_is_rebuilt_before_cloning(tenant_a, caplog, mistake, warning):
    """A row written into the template by mistake would be copied into every new tenant."""
    from apps.identity.services import organisation_provision

    schemas.template_ensure()
    expected = _content_types(T)
    with connection.cursor() as cursor:
        cursor.execute(mistake)
    with caplog.at_level(logging.INFO, logger="apps.tenancy.schemas"):
        organisation_provision(name="Clean", slug="clean-copy", owner_email="clean@example.com")

    assert _content_types("t_clean_copy") == _content_types(T) == expected
    assert ("stray", "row") not in expected
    assert [r.levelname for r in caplog.records if "rebuilding it" in r.getMessage() and warning in r.getMessage()] == [
        "WARNING"
    ]


@pytest.mark.django_db
def test_an_untouched_template_is_cloned_as_it_is(tenant_a, caplog):
    from apps.identity.services import organisation_provision

    schemas.template_ensure()
    with caplog.at_level(logging.INFO, logger="apps.tenancy.schemas"):
        organisation_provision(name="Clone", slug="as-it-is", owner_email="as-it-is@example.com")
        organisation_provision(name="Clone 2", slug="as-it-is-2", owner_email="as-it-is-2@example.com")
    assert [r.getMessage() for r in caplog.records] == []


@pytest.mark.django_db
def test_template_with_objects_the_clone_cannot_copy_falls_back_to_migrations(tenant_a):
    schemas.template_ensure()
    schemas._clone_sql.clear()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW {schemas.TEMPLATE_SCHEMA}.odd AS SELECT 1 AS one")
    try:
        from apps.identity.services import organisation_provision

        organisation_provision(name="Fallback", slug="fallback", owner_email="fallback@example.com")
        assert schemas._clone_sql and None in schemas._clone_sql.values()
        assert not schemas.pending_migrations(schemas.applied_migrations(["t_fallback"])["t_fallback"])
    finally:
        schemas._clone_sql.clear()


@pytest.mark.django_db
def test_behind_schemas_finds_exactly_the_schemas_missing_migrations(tenant_a, tenant_b):
    assert schemas.behind_schemas(["t_alpha", "t_beta"]) == {}
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM t_beta.django_migrations WHERE app = 'auditlog' AND name LIKE '0017%%'")
    assert schemas.behind_schemas(["t_alpha", "t_beta"]) == {"t_beta": {("auditlog", "0017_add_actor_email")}}
