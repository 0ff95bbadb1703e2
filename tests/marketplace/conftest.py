"""Marketplace fixtures: enabling a plugin in a tenant through the service."""

from django.db import connection
from django_tenants.utils import schema_context

from apps.marketplace import services


def enable(tenant, label, actor=None):
    with schema_context(tenant.schema_name):
        return services.plugin_enable(tenant=tenant, actor=actor, label=label)


def table_exists(tenant, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{tenant.schema_name}.{table}"])
        return cursor.fetchone()[0]
