"""migrate_schemas through manage.py: only the schemas behind are migrated, failures are named."""

import subprocess
import sys

import psycopg
import pytest
from django.db import connection

from tests.conftest import subprocess_env


def _autocommit():
    """A connection outside the test's transaction, so the command's processes see the change."""
    s = connection.settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"],
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        autocommit=True,
    )


def _migrate():
    return subprocess.run(
        [sys.executable, "manage.py", "migrate_schemas", "--noinput"],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=120,
    )


@pytest.mark.django_db
def test_noop_reports_every_schema_up_to_date(tenant_a, tenant_b):
    result = _migrate()
    assert result.returncode == 0, result.stderr
    assert "tenant schemas are up to date" in result.stdout


# Content's latest migration: it adds the column content_blob.pages, and nothing depends on it
# (test_the_migration_used_is_still_a_leaf says when a newer one must take its place here).
APP, LAST = "content", "0006_blob_pages"


def test_the_migration_used_is_still_a_leaf():
    from django.db.migrations.loader import MigrationLoader

    assert (APP, LAST) in MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()


def _set_behind(conn, schema, *, undo_effect=True):
    """Makes `schema` miss content's latest migration; with undo_effect False, only its record
    goes, so re-applying it fails (the column is still there)."""
    if undo_effect:
        conn.execute(f"ALTER TABLE {schema}.content_blob DROP COLUMN pages")
    conn.execute(f"DELETE FROM {schema}.django_migrations WHERE app = %s AND name = %s", [APP, LAST])


def _repair(conn, schema):
    conn.execute(f"ALTER TABLE {schema}.content_blob ADD COLUMN IF NOT EXISTS pages integer NULL")
    if not conn.execute(
        f"SELECT 1 FROM {schema}.django_migrations WHERE app = %s AND name = %s", [APP, LAST]
    ).fetchone():
        conn.execute(f"INSERT INTO {schema}.django_migrations (app, name, applied) VALUES (%s, %s, now())", [APP, LAST])


@pytest.mark.django_db
def test_only_the_schema_behind_is_migrated(tenant_a, tenant_b):
    with _autocommit() as conn:
        _set_behind(conn, "t_beta")
    try:
        result = _migrate()
        assert result.returncode == 0, result.stdout + result.stderr
        assert "1 of " in result.stdout and "[1/1] t_beta migrated" in result.stdout
        assert "t_alpha" not in result.stdout
        with _autocommit() as conn:
            assert conn.execute("SELECT pages FROM t_beta.content_blob LIMIT 1").description
    finally:
        with _autocommit() as conn:
            _repair(conn, "t_beta")


@pytest.mark.django_db
def test_a_failing_tenant_is_named_the_others_go_on_and_exit_is_nonzero(tenant_a, tenant_b):
    with _autocommit() as conn:
        _set_behind(conn, "t_beta", undo_effect=False)
        _set_behind(conn, "t_alpha")
    try:
        result = _migrate()
        assert result.returncode == 1
        assert "t_beta FAILED" in result.stdout
        assert "t_alpha migrated" in result.stdout
        assert "1 failed" in result.stderr and "t_beta" in result.stderr.splitlines()[-1]
    finally:
        with _autocommit() as conn:
            _repair(conn, "t_beta")
            _repair(conn, "t_alpha")
