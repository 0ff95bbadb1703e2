"""Entering a tenant's schema on the current connection, without re-issuing SET search_path
when the connection is already there."""

from django.db import DEFAULT_DB_ALIAS, connections


def activate(tenant):
    conn = connections[DEFAULT_DB_ALIAS]  # looked up once: this runs on every request
    if conn.schema_name != tenant.schema_name:
        conn.set_tenant(tenant)
    elif conn.tenant is not tenant:
        conn.tenant = tenant
