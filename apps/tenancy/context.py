"""Entering a tenant's schema on the current connection, without re-issuing SET search_path
when the connection is already there."""

from django.db import connection


def activate(tenant):
    if connection.schema_name != tenant.schema_name:
        connection.set_tenant(tenant)
    else:
        connection.tenant = tenant
