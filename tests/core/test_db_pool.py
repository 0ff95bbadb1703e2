"""The per-process connection pool gives connections back without their tenant."""

import pytest
from django.conf import settings
from django.db import connection
from psycopg_pool import ConnectionPool

from apps.core.db import reset_pooled_connection


def _pool(reset) -> ConnectionPool:
    """A one-connection psycopg pool on the test database, connected the way Django connects."""
    kwargs = {**connection.get_connection_params(), "autocommit": True}
    return ConnectionPool(kwargs=kwargs, min_size=1, max_size=1, reset=reset, open=True)


@pytest.mark.parametrize(("reset", "next_schema"), [(None, "tenant"), (reset_pooled_connection, "public")])
def test_a_connection_goes_back_to_the_pool_without_its_tenants_search_path(tenant_a, reset, next_schema):
    """Without the reset the next holder of the connection would start in the last tenant's schema."""
    with _pool(reset) as pool:
        with pool.connection() as conn:
            conn.execute(f'SET search_path = "{tenant_a.schema_name}", public')
        with pool.connection() as conn:
            seen = conn.execute("SELECT current_schema()").fetchone()[0]
    assert seen == (tenant_a.schema_name if next_schema == "tenant" else "public")


def test_the_database_settings_use_that_reset():
    assert settings.DATABASES["default"]["OPTIONS"]["pool"]["reset"] is reset_pooled_connection
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 0
