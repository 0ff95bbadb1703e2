# `migrate` is migrate_schemas, as with django-tenants, but the hub's fast one.
from .migrate_schemas import Command  # noqa: F401
